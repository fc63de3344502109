package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"syscall"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/ui"
)

// DefaultUIPort is the live view's port on 127.0.0.1 (another free port
// when it is taken).
const DefaultUIPort = 8090

// UIConfig configures `svcplane ui`, the live view (internal/ui).
type UIConfig struct {
	Client kubernetes.Interface
	// Port is the port on 127.0.0.1; 0 picks a free one.
	Port int
	// Listener, when set, is served instead (up's sandbox passes it).
	Listener net.Listener
	// NetnsDir is where sandboxed nodes' namespaces are mounted.
	NetnsDir string
	// Domain is the cluster's DNS domain.
	Domain string
	// Out receives the line with the page's address.
	Out    io.Writer
	Logger *slog.Logger
}

// RunUI serves the live view on 127.0.0.1 until ctx ends.
func RunUI(ctx context.Context, cfg UIConfig) error {
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = listenUI(cfg.Port); err != nil {
			return err
		}
	}
	if cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "svcplane: live view at http://%s/\n", ln.Addr())
	}
	s := ui.New(ui.Config{Client: cfg.Client, Rules: kernelRules{dir: cfg.NetnsDir}, Domain: cfg.Domain, Logger: cfg.Logger})
	return s.Serve(ctx, ln)
}

// listenUI listens on 127.0.0.1:port, or on a free port when port is
// DefaultUIPort and taken (another cluster's view may have it).
func listenUI(port int) (net.Listener, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil && port == DefaultUIPort && errors.Is(err, syscall.EADDRINUSE) {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		return nil, fmt.Errorf("live view: %w", err)
	}
	return ln, nil
}

// kernelRules reads a node's rules from its kernel as `svcplane trace`
// does: inside its sandbox namespace, or here when it is this machine.
type kernelRules struct{ dir string }

var _ ui.RulesReader = kernelRules{}

func (k kernelRules) ReadRules(node *corev1.Node, fam corev1.IPFamily) ui.NodeRules {
	if os.Geteuid() != 0 {
		return ui.NodeRules{Err: errors.New("reading the kernel's rules needs root: run svcplane ui as root")}
	}
	es, err := readNodeRules(node.Name, k.dir, fam, nodeAddrs(node))
	if err != nil {
		return ui.NodeRules{Err: err}
	}
	out := ui.NodeRules{}
	for _, e := range es {
		out.Modes = append(out.Modes, ui.ModeRules{Mode: string(e.mode), Explainer: e.tr})
	}
	return out
}

// UISettings are up's live view settings.
type UISettings struct {
	// Serve serves the live view (off by default for callers of RunUp;
	// the command turns it on unless --no-ui).
	Serve bool
	// Port is the page's port on 127.0.0.1 (0: any free port).
	Port int
	// listener is the sandbox parent's, inherited by the child.
	listener net.Listener
}

// sandboxUIEnv tells a sandboxed up's child that fd 4 is the live view's
// listener, opened by the parent on the host's 127.0.0.1.
const (
	sandboxUIEnv = "SVCPLANE_SANDBOX_UI"
	sandboxUIFD  = 4
)

// listenUIFile opens the live view's listener for a sandbox's child (nil
// when it is off).
func listenUIFile(cfg UpConfig) (*os.File, error) {
	if !cfg.UI.Serve {
		return nil, nil
	}
	ln, err := listenUI(cfg.UI.Port)
	if err != nil {
		return nil, err
	}
	defer ln.Close()
	return ln.(*net.TCPListener).File()
}

// inheritUIListener is the child's side of listenUIFile.
func inheritUIListener(cfg *UpConfig) error {
	if os.Getenv(sandboxUIEnv) == "" {
		cfg.UI.Serve = false
		return nil
	}
	f := os.NewFile(sandboxUIFD, "ui-listener")
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("sandbox: inherited live view listener: %w", err)
	}
	cfg.UI.listener = ln
	return nil
}

// startUI serves the live view in the background for as long as up runs.
func startUI(ctx context.Context, s *APIServer, cfg UpConfig) error {
	if !cfg.UI.Serve {
		return nil
	}
	rc, err := ComponentRESTConfig(s, "system:svcplane-ui")
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	ln := cfg.UI.listener
	if ln == nil {
		if ln, err = listenUI(cfg.UI.Port); err != nil {
			return err
		}
	}
	if cfg.Out != nil {
		fmt.Fprintf(cfg.Out, "svcplane: live view at http://%s/\n", ln.Addr())
	}
	uc := UIConfig{Client: client, Listener: ln, NetnsDir: cfg.Agent.NetnsDir, Domain: cfg.Agent.withDefaults().ClusterDomain,
		Logger: cfg.Logger.With("component", "ui")}
	go func() {
		if err := RunUI(ctx, uc); err != nil {
			cfg.Logger.Error("live view stopped", "err", err)
		}
	}()
	return nil
}
