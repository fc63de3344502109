package userspace

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// DefaultInterface is the dummy interface holding the Service addresses.
const DefaultInterface = "svcplane-us0"

// DefaultUDPIdleTimeout closes a UDP session this long after its last
// datagram either way (conntrack's unreplied UDP timeout).
const DefaultUDPIdleTimeout = 30 * time.Second

// Config configures a Backend.
type Config struct {
	// Family is the IP family the backend serves.
	Family corev1.IPFamily
	// Scheduler is the default scheduler: rr (""), lc or sh; another
	// name (an IPVS-only scheduler) gets rr and a warning. The
	// svcplane.io/scheduler annotation overrides it per Service.
	Scheduler string
	// Interface names the dummy interface; "" is DefaultInterface.
	Interface string
	// UDPIdleTimeout ends idle UDP sessions; 0 is DefaultUDPIdleTimeout.
	UDPIdleTimeout time.Duration
	// LocalAddrs lists the node's addresses, for NodePorts on every local
	// address (nodePortAddresses empty); nil lists the interfaces of the
	// network namespace the process runs in.
	LocalAddrs func() []netip.Addr
	// Logger logs; nil means slog.Default().
	Logger *slog.Logger
	// Sockmap hands established TCP relays to the kernel (a BPF sk_skb
	// verdict program redirecting between the two sockets) where the
	// kernel allows it; the others, and all where it does not, splice.
	Sockmap bool
}

// Backend is the userspace mode for one IP family. Sync, Rules, Tracer
// and Cleanup may be called from any goroutine; the relaying runs in
// goroutines of its own.
type Backend struct {
	cfg   Config
	sched scheduler
	log   *slog.Logger
	link  *link
	conns registry
	smap  *sockmap // nil: relays splice

	mu        sync.Mutex
	services  map[proxy.ServicePortName]*service
	listeners map[listenKey]listener
	vipRefs   map[netip.Addr]int
	loc       atomic.Pointer[locality]
	npIPs     []netip.Addr
	synced    bool
	needFull  bool
	rules     net.Listener // serves Rules to other processes
	lastCheck time.Time
}

var (
	_ proxy.Backend  = (*Backend)(nil)
	_ proxy.Handover = (*Backend)(nil)
)

// New returns the userspace backend of cfg.Family. It touches nothing:
// the interface and listeners appear with the first Sync.
func New(cfg Config) (*Backend, error) {
	if cfg.Family == "" {
		cfg.Family = corev1.IPv4Protocol
	}
	if cfg.Interface == "" {
		cfg.Interface = DefaultInterface
	}
	if cfg.UDPIdleTimeout <= 0 {
		cfg.UDPIdleTimeout = DefaultUDPIdleTimeout
	}
	if cfg.LocalAddrs == nil {
		name := cfg.Interface
		cfg.LocalAddrs = func() []netip.Addr { return interfaceAddrs(name) }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := &Backend{cfg: cfg, log: cfg.Logger.With("mode", "userspace", "family", string(cfg.Family))}
	sched, ok := parseScheduler(cfg.Scheduler)
	if !ok {
		b.log.Warn("scheduler not available in userspace mode, using rr", "scheduler", cfg.Scheduler)
	}
	b.sched = sched
	b.link = newLink(cfg.Interface, cfg.Family)
	b.reset()
	if cfg.Sockmap {
		m, err := newSockmap()
		if err != nil {
			b.log.Warn("TCP relays splice: the kernel takes no socket redirects", "err", err)
		}
		b.smap = m
	}
	return b, nil
}

func (b *Backend) reset() {
	b.services = map[proxy.ServicePortName]*service{}
	b.listeners = map[listenKey]listener{}
	b.vipRefs = map[netip.Addr]int{}
	b.needFull = true
}

// Mode is proxy.ModeUserspace.
func (b *Backend) Mode() proxy.Mode { return proxy.ModeUserspace }

// NeedsFullSync says whether the dummy interface went missing (someone
// deleted it), looking at most every 10 seconds.
func (b *Backend) NeedsFullSync(context.Context) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.synced || b.needFull || time.Since(b.lastCheck) < 10*time.Second {
		return false
	}
	b.lastCheck = time.Now()
	return !b.link.exists()
}

// Cleanup closes every listener, connection and UDP session and removes
// the family's addresses from the dummy interface, and the interface once
// it holds none.
func (b *Backend) Cleanup(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, l := range b.listeners {
		l.close()
		delete(b.listeners, k)
	}
	b.conns.closeAll()
	if b.rules != nil {
		b.rules.Close()
		b.rules = nil
	}
	b.reset()
	b.synced = false
	if err := b.link.remove(); err != nil {
		return fmt.Errorf("userspace %s cleanup: %w", b.cfg.Family, err)
	}
	return nil
}

// Handover hands the node to the next userspace backend of a live
// configuration change (a new scheduler, say), which has synced beside
// this one (the listeners share their ports through SO_REUSEPORT): it
// closes this backend's listeners and rules socket, and keeps the
// addresses, which the next backend holds too, and the established TCP
// connections, which run to their end. UDP sessions end with their
// listener; the next backend starts new ones. For another mode, whose
// rules already catch new connections, it closes the listeners, lets the
// open connections finish for up to DrainTimeout, then cleans up.
func (b *Backend) Handover(ctx context.Context, next proxy.Mode) error {
	b.closeListeners()
	if next != proxy.ModeUserspace {
		b.drain(ctx, DrainTimeout)
		return b.Cleanup(ctx)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.rules != nil {
		b.rules.Close()
		b.rules = nil
	}
	b.reset()
	b.synced = false
	return nil
}

// DrainTimeout bounds how long a handover to another mode waits for open
// connections (and UDP sessions) to end before closing them.
const DrainTimeout = 2 * time.Second

func (b *Backend) closeListeners() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, l := range b.listeners {
		l.close()
		delete(b.listeners, k)
	}
}

// drain waits until no connection is open, at most timeout.
func (b *Backend) drain(ctx context.Context, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for b.conns.len() > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
}

// localityOf is the node's addresses and the cluster CIDRs of st.
func (b *Backend) localityOf(st *proxy.State) *locality {
	loc := &locality{clusterCIDRs: st.Options.ClusterCIDRs, nodeAddrs: map[netip.Addr]bool{}}
	for _, ip := range append(append([]netip.Addr{}, st.Node.IPs...), b.cfg.LocalAddrs()...) {
		loc.nodeAddrs[ip] = true
	}
	return loc
}

// interfaceAddrs lists the addresses of this network namespace but those
// of the interface named skip (the Service addresses).
func interfaceAddrs(skip string) []netip.Addr {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, ifc := range ifaces {
		if ifc.Name == skip {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil {
				out = append(out, p.Addr().Unmap())
			}
		}
	}
	return out
}
