package ipvs

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// DefaultScheduler is kube-proxy's default IPVS scheduler.
const DefaultScheduler = "rr"

// Schedulers are the IPVS schedulers the mode accepts (ipvs.scheduler and
// the svcplane.io/scheduler annotation).
func Schedulers() []string {
	return []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "mh"}
}

// Config configures a Backend.
type Config struct {
	// Family is the IP family the backend programs.
	Family corev1.IPFamily
	// Kernel reaches the kernel; nil opens the real one (Open), which
	// fails with proxy.ErrUnavailable without IPVS.
	Kernel *Kernel
	// Scheduler is ipvs.scheduler ("" = rr).
	Scheduler string
	// IPTablesBackend is legacy, nft or auto, for Open.
	IPTablesBackend string
	// Timeouts are ipvs.tcpTimeout, tcpFinTimeout and udpTimeout, set
	// at full syncs where they differ from the kernel's; a zero one
	// leaves the kernel's value.
	Timeouts Timeouts
	// StrictARP is ipvs.strictARP: full syncs set arp_ignore=1 and
	// arp_announce=2 on all interfaces, so that the node answers ARP
	// only for addresses of the interface asked on (not for kube-ipvs0's).
	// Turning it off later leaves the sysctls as they are (kube-proxy too).
	StrictARP bool
	// ExcludeCIDRs is ipvs.excludeCIDRs: a virtual service whose address
	// is in one of them is never removed, even one the mode made whose
	// Service is gone (kube-proxy's cleanup of stale services skips them).
	ExcludeCIDRs []string
	// Logger logs; nil means slog.Default().
	Logger *slog.Logger
}

// Backend is the IPVS mode for one IP family.
type Backend struct {
	cfg Config
	k   Kernel
	log *slog.Logger

	// What the service ports want, by service port, and aggregated.
	held      map[proxy.ServicePortName]rendered
	claims    map[string]map[proxy.ServicePortName]virtual
	entries   map[string]map[string]int
	binds     map[netip.Addr]int
	outFilter map[string]int

	// What the kernel holds, as of the last reads and successful writes.
	kvs      map[string]*kernelVS
	kentries map[string]map[string]bool
	kaddrs   map[netip.Addr]bool
	// draining are real servers at weight 0 until their connections end,
	// by virtual service key.
	draining map[string]map[string]bool

	exclude     []netip.Prefix
	nodePortIPs []netip.Addr
	nodeAddrs   map[netip.Addr]bool
	lastRules   string
	needFull    bool
	warned      map[string]bool
	lastCheck   time.Time
}

// kernelVS is a virtual service in the kernel with its real servers.
type kernelVS struct {
	svc   Service
	dests map[string]Destination
}

var _ proxy.Backend = (*Backend)(nil)

// New returns the IPVS backend of cfg.Family. Without cfg.Kernel it opens
// the real kernel and errors, wrapping proxy.ErrUnavailable, when the
// kernel has no IPVS (or ipset, or iptables).
func New(ctx context.Context, cfg Config) (*Backend, error) {
	if cfg.Family == "" {
		cfg.Family = corev1.IPv4Protocol
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Scheduler == "" {
		cfg.Scheduler = DefaultScheduler
	}
	if !slices.Contains(Schedulers(), cfg.Scheduler) {
		return nil, fmt.Errorf("ipvs scheduler %q: want one of %v", cfg.Scheduler, Schedulers())
	}
	exclude, err := parseExcludeCIDRs(cfg.ExcludeCIDRs)
	if err != nil {
		return nil, err
	}
	if cfg.Timeouts, err = wholeSeconds(cfg.Timeouts); err != nil {
		return nil, err
	}
	var k Kernel
	if cfg.Kernel != nil {
		k = *cfg.Kernel
	} else {
		if k, err = Open(ctx, cfg.Family, cfg.IPTablesBackend); err != nil {
			return nil, err
		}
	}
	if err := k.validate(); err != nil {
		return nil, err
	}
	b := &Backend{cfg: cfg, k: k, log: cfg.Logger.With("family", string(cfg.Family)), warned: map[string]bool{}, exclude: exclude}
	b.reset()
	return b, nil
}

// parseExcludeCIDRs parses ipvs.excludeCIDRs.
func parseExcludeCIDRs(cidrs []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for i, c := range cidrs {
		p, err := netip.ParsePrefix(strings.TrimSpace(c))
		if err != nil {
			return nil, fmt.Errorf("ipvs excludeCIDRs[%d]: %w", i, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// wholeSeconds is t as the kernel keeps it; a negative timeout is an
// error.
func wholeSeconds(t Timeouts) (Timeouts, error) {
	if t.TCP < 0 || t.TCPFin < 0 || t.UDP < 0 {
		return t, fmt.Errorf("ipvs timeouts (tcp %s, tcpFin %s, udp %s): must not be negative", t.TCP, t.TCPFin, t.UDP)
	}
	return Timeouts{TCP: t.TCP.Truncate(time.Second), TCPFin: t.TCPFin.Truncate(time.Second), UDP: t.UDP.Truncate(time.Second)}, nil
}

// excluded says whether a is in one of ipvs.excludeCIDRs.
func (b *Backend) excluded(a netip.Addr) bool {
	for _, p := range b.exclude {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func (b *Backend) reset() {
	b.held = map[proxy.ServicePortName]rendered{}
	b.claims = map[string]map[proxy.ServicePortName]virtual{}
	b.entries = map[string]map[string]int{}
	b.binds = map[netip.Addr]int{}
	b.outFilter = map[string]int{}
	b.kvs = map[string]*kernelVS{}
	b.kentries = map[string]map[string]bool{}
	b.kaddrs = map[netip.Addr]bool{}
	b.draining = map[string]map[string]bool{}
	b.lastRules = ""
	b.needFull = true
}

// Mode is proxy.ModeIPVS.
func (b *Backend) Mode() proxy.Mode { return proxy.ModeIPVS }

// NeedsFullSync says whether kube-ipvs0 or the KUBE-IPVS-FILTER chain went
// missing, looking at most every 10 seconds.
func (b *Backend) NeedsFullSync(ctx context.Context) bool {
	if b.needFull || time.Since(b.lastCheck) < 10*time.Second {
		return false
	}
	b.lastCheck = time.Now()
	if !b.k.Links.Exists(DummyDevice) {
		return true
	}
	_, err := b.k.IPTables.Run(ctx, b.k.Tools.IPTables, []string{"-w", "5", "-t", tableFilter, "-S", chainIPVSFilter}, nil)
	return err != nil
}

// scheduler is the service port's scheduler: its annotation when valid,
// else the configured one (an unknown value is logged once).
func (b *Backend) scheduler(s *proxy.ServiceState) string {
	if s.Scheduler == "" {
		return b.cfg.Scheduler
	}
	if slices.Contains(Schedulers(), s.Scheduler) {
		return s.Scheduler
	}
	if k := s.Name.String() + "=" + s.Scheduler; !b.warned[k] {
		b.warned[k] = true
		b.log.Warn("unknown "+proxy.SchedulerAnnotation+" value; using the default scheduler",
			"servicePort", s.Name.String(), "scheduler", s.Scheduler, "default", b.cfg.Scheduler, "known", fmt.Sprint(Schedulers()))
	}
	return b.cfg.Scheduler
}
