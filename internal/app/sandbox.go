package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/svcplane/svcplane/internal/netns"
)

// A sandboxed `up` runs twice: the parent, in the machine's namespace,
// creates the node's network namespace, opens the API listener on the
// host's 127.0.0.1 and runs itself again inside the namespace (through
// nsenter, so that every thread of the child is inside). The child finds
// the listener as fd 3, serves the API on the sandbox's own 127.0.0.1 at
// the same port, and forwards the host listener's connections there.
const (
	sandboxEnv     = "SVCPLANE_SANDBOX"
	sandboxPortEnv = "SVCPLANE_SANDBOX_PORT"
	sandboxFD      = 3
)

// DefaultSandboxNodeIP is a sandboxed node's address, on a dummy
// interface inside its namespace.
const DefaultSandboxNodeIP = "10.240.0.2/24"

// inSandbox says whether this process is the child of a sandboxed up.
func inSandbox() bool { return os.Getenv(sandboxEnv) != "" }

// runSandboxParent creates the sandbox and runs the child until ctx ends.
func runSandboxParent(ctx context.Context, cfg UpConfig) error {
	if !netns.ValidCluster(cfg.Sandbox) || len(cfg.Sandbox) > 20 {
		return fmt.Errorf("sandbox name %q: use up to 20 lowercase letters, digits and dashes", cfg.Sandbox)
	}
	nodes, err := createSandboxNodes(cfg)
	if err != nil {
		return err
	}
	path := nodes[0].Netns
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.APIServer.Port)))
	if err != nil {
		return fmt.Errorf("listen for the API: %w", err)
	}
	f, err := ln.(*net.TCPListener).File()
	ln.Close()
	if err != nil {
		return err
	}
	defer f.Close()
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ui, err := listenUIFile(cfg)
	if err != nil {
		return err
	}
	if ui != nil {
		defer ui.Close()
	}
	return runChild(ctx, cfg, path, port, f, ui)
}

// runChild runs up again inside the node's namespace with the API's
// listener as fd 3 and the live view's, when there is one, as fd 4.
func runChild(ctx context.Context, cfg UpConfig, netnsPath, port string, listener, ui *os.File) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command("nsenter", append([]string{"--net=" + netnsPath, "--", self}, cfg.Args...)...)
	cmd.Env = append(os.Environ(), sandboxEnv+"="+cfg.Sandbox, sandboxPortEnv+"="+port)
	cmd.ExtraFiles = []*os.File{listener}
	if ui != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, ui)
		cmd.Env = append(cmd.Env, sandboxUIEnv+"=1")
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the sandboxed node: %w", err)
	}
	return childErr(waitOrStop(ctx, cmd))
}

func childErr(err error) error {
	if errors.Is(err, errStopTimeout) {
		return errors.New("the sandboxed node did not stop within 30s")
	}
	if err != nil {
		return fmt.Errorf("sandboxed node: %w", err)
	}
	return nil
}

// enterSandbox runs in the child: it gives the node its address and
// forwards the host's API listener to the API served inside.
func enterSandbox(ctx context.Context, cfg *UpConfig) error {
	port, err := strconv.Atoi(os.Getenv(sandboxPortEnv))
	if err != nil {
		return fmt.Errorf("sandbox: bad %s: %w", sandboxPortEnv, err)
	}
	nodeIP, err := netip.ParsePrefix(cfg.SandboxNodeIP)
	if err != nil {
		return fmt.Errorf("sandbox node IP %q: %w", cfg.SandboxNodeIP, err)
	}
	if err := netns.SetupSandboxNode(nodeIP); err != nil {
		return err
	}
	nodeNetns := netns.NewDir(cfg.Agent.NetnsDir).Path(netns.Names{Cluster: cfg.Sandbox}.Node(cfg.Sandbox))
	if err := setupNodeSysctls(nodeNetns, cfg.Logger); err != nil {
		return err
	}
	f := os.NewFile(sandboxFD, "api-listener")
	host, err := net.FileListener(f)
	f.Close()
	if err != nil {
		return fmt.Errorf("sandbox: inherited listener: %w", err)
	}
	// Inside the sandbox the API is served on every address (the namespace
	// has no route out), so pods reach it at the node's address, which the
	// kubernetes Service's endpoints list.
	if err := inheritUIListener(cfg); err != nil {
		return err
	}
	cfg.APIServer.BindAddress, cfg.APIServer.Port = "0.0.0.0", port
	cfg.APIServer.AdvertiseAddress = nodeIP.Addr().String()
	s := &cfg.Agent
	s.NodeName, s.NodeIP, s.Cluster = orString(s.NodeName, cfg.Sandbox), nodeIP.Addr().String(), cfg.Sandbox
	go forward(ctx, host, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cfg.Logger)
	return nil
}

// setupNodeSysctls sets the node namespace's sysctls and logs, in one
// line, what each is now and what it was before.
func setupNodeSysctls(nodeNetns string, log *slog.Logger) error {
	res, err := netns.SetupNodeSysctls(nodeNetns)
	if err != nil {
		return fmt.Errorf("sandbox node sysctls: %w", err)
	}
	parts := make([]string, len(res))
	failed := false
	for i, r := range res {
		parts[i], failed = r.String(), failed || r.Err != nil
	}
	level := slog.LevelInfo
	if failed {
		level = slog.LevelWarn
	}
	log.Log(context.Background(), level, "node namespace sysctls", "sysctls", strings.Join(parts, ", "))
	return nil
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// forward copies every connection accepted on ln to target, both ways.
func forward(ctx context.Context, ln net.Listener, target string, log *slog.Logger) {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				log.Error("sandbox API forwarder stopped", "err", err)
			}
			return
		}
		go pipe(c, target)
	}
}

func pipe(c net.Conn, target string) {
	defer c.Close()
	t, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(t, c); t.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { _, _ = io.Copy(c, t); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}
