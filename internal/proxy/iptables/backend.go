package iptables

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Config configures a Backend.
type Config struct {
	// Family is the IP family the backend programs (iptables or ip6tables).
	Family corev1.IPFamily
	// Exec runs the iptables tools; nil means OSExec.
	Exec Exec
	// IPTablesBackend is legacy, nft or auto ("" = auto).
	IPTablesBackend string
	// ConntrackTCPLiberal says nf_conntrack_tcp_be_liberal is set, so the
	// KUBE-FORWARD rule dropping INVALID packets is left out, as kube-proxy
	// does.
	ConntrackTCPLiberal bool
	// CanaryInterval is how often NeedsFullSync looks at the canary
	// chains; 0 means 30 s (kube-proxy looks once per syncPeriod), a
	// negative value at every call.
	CanaryInterval time.Duration
	// Logger logs; nil means slog.Default().
	Logger *slog.Logger
}

// Backend is the iptables mode for one IP family.
type Backend struct {
	cfg         Config
	ex          Exec
	log         *slog.Logger
	choice      Choice
	tools       tools
	randomFully bool

	names nameCache
	probs []string
	// written holds the per-service chains in the kernel, by service port,
	// as of the last successful restore.
	written map[proxy.ServicePortName][]string
	// needFull makes the next sync full (first sync, failed restore,
	// flushed canary).
	needFull bool
	// lastCanary is when NeedsFullSync last looked at the canaries.
	lastCanary time.Time
	// r holds the last render, which LastRestore writes again.
	r renderer
}

var _ proxy.Backend = (*Backend)(nil)

// New picks the iptables backend (see Choice) and returns a Backend for
// cfg.Family. It errors, wrapping proxy.ErrUnavailable, when the backend
// asked for (or neither, with auto) works on the node.
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Family == "" {
		cfg.Family = corev1.IPv4Protocol
	}
	if cfg.Exec == nil {
		cfg.Exec = OSExec{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CanaryInterval == 0 {
		cfg.CanaryInterval = 30 * time.Second
	}
	choice, err := choose(ctx, cfg.Exec, cfg.Family, cfg.IPTablesBackend)
	if err != nil {
		return nil, fmt.Errorf("iptables %s: %w", cfg.Family, err)
	}
	t := toolsFor(cfg.Family, choice.Backend)
	b := &Backend{
		cfg: cfg, ex: cfg.Exec, choice: choice, tools: t,
		log:         cfg.Logger.With("family", string(cfg.Family), "iptablesBackend", choice.Backend),
		randomFully: randomFully(ctx, cfg.Exec, t),
		names:       nameCache{},
		written:     map[proxy.ServicePortName][]string{},
		needFull:    true,
	}
	return b, nil
}

// Mode is proxy.ModeIPTables.
func (b *Backend) Mode() proxy.Mode { return proxy.ModeIPTables }

// Choice is the iptables backend in use and why, for the caller to log.
func (b *Backend) Choice() Choice { return b.choice }

// LastRestore is the input of the last iptables-restore the backend ran
// (nil before the first sync), rendered again: Sync streams it to the
// tool without keeping it. It leaves out the head a full sync writes
// before the rules when canaries or jumps were missing (ensureText).
func (b *Backend) LastRestore() []byte { return b.r.text() }

// run runs one tool of the chosen backend.
func (b *Backend) run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	return b.ex.Run(ctx, name, args, stdin)
}
