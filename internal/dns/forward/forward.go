package forward

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	svcdns "github.com/svcplane/svcplane/internal/dns"
	"github.com/svcplane/svcplane/internal/dns/cache"
)

// Policies say in which order the upstreams of a zone are tried.
const (
	PolicyRandom     = "random"     // a random order for each query (CoreDNS's default)
	PolicySequential = "sequential" // the configured order
)

// Defaults and limits, as in CoreDNS's forward plugin.
const (
	DefaultResolvConf     = "/etc/resolv.conf"
	DefaultTimeout        = 2 * time.Second        // per upstream attempt
	DefaultHealthInterval = 500 * time.Millisecond // between health checks of a down upstream
	MaxUpstreams          = 15                     // per zone
	queryBudget           = 5 * time.Second        // for all attempts of one query
	healthCheckTimeout    = time.Second
)

// ErrNoUpstreams is returned (wrapped) by Forward when the zone of the
// name has no upstream.
var ErrNoUpstreams = errors.New("no upstream servers")

// Config configures a Forwarder.
type Config struct {
	// Upstreams are "ip" or "ip:port" (port 53 by default); empty means
	// the nameservers of ResolvConf.
	Upstreams []string
	// ResolvConf is read when Upstreams is empty; "" means
	// /etc/resolv.conf.
	ResolvConf string
	// Policy is PolicyRandom (the default) or PolicySequential.
	Policy string
	// StubDomains maps a zone to the servers that answer for it, as
	// kube-dns's stubDomains.
	StubDomains map[string][]string
	// Timeout bounds one attempt at one upstream; 0 means 2 s. A query
	// tries each upstream at most once, within 5 s in all.
	Timeout time.Duration
	// Cache, if not nil, is consulted before and filled after upstream
	// queries.
	Cache *cache.Cache
	// Logger logs upstream state changes; nil discards.
	Logger *slog.Logger
	// Registry, if not nil, receives the coredns_proxy_* and
	// coredns_forward_* metrics.
	Registry prometheus.Registerer
	// HealthInterval is the time between health checks of a down
	// upstream; 0 means 500 ms.
	HealthInterval time.Duration
}

// Forwarder sends queries to upstream servers. It is safe for concurrent
// use; Close stops its background health checks.
type Forwarder struct {
	policy     string
	resolvConf string
	interval   time.Duration
	cache      *cache.Cache
	log        *slog.Logger
	metrics    *metrics
	udp, tcp   *dns.Client
	probe      *dns.Client

	ctx    context.Context // ends with Close; parent of the health checks
	cancel context.CancelFunc

	mu        sync.Mutex                 // serialises updates of the fields below and of table
	upstreams map[string]*upstream       // by address, shared by the default list and stubs
	defaults  []string                   // the default upstream addresses
	stubs     map[string][]string        // zone → upstream addresses
	table     atomic.Pointer[routeTable] // read by every query

	onCheck func(addr string, healthy bool) // test hook, called after each health check
}

var _ svcdns.Forwarder = (*Forwarder)(nil)

// New returns a Forwarder for cfg.
func New(cfg Config) (*Forwarder, error) {
	f, err := newForwarder(cfg)
	if err != nil {
		return nil, err
	}
	if err := f.SetUpstreams(cfg.Upstreams); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.SetStubDomains(cfg.StubDomains); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func newForwarder(cfg Config) (*Forwarder, error) {
	switch cfg.Policy {
	case "":
		cfg.Policy = PolicyRandom
	case PolicyRandom, PolicySequential:
	default:
		return nil, fmt.Errorf("unknown forward policy %q", cfg.Policy)
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	timeout := orDefault(cfg.Timeout, DefaultTimeout)
	f := &Forwarder{
		policy:     cfg.Policy,
		resolvConf: cfg.ResolvConf,
		interval:   orDefault(cfg.HealthInterval, DefaultHealthInterval),
		cache:      cfg.Cache,
		log:        cfg.Logger,
		metrics:    m,
		udp:        &dns.Client{Net: "udp", Timeout: timeout, UDPSize: dns.MaxMsgSize},
		tcp:        &dns.Client{Net: "tcp", Timeout: timeout},
		probe:      &dns.Client{Net: "udp", Timeout: min(timeout, healthCheckTimeout)},
		upstreams:  map[string]*upstream{},
	}
	if f.log == nil {
		f.log = slog.New(slog.DiscardHandler)
	}
	if f.resolvConf == "" {
		f.resolvConf = DefaultResolvConf
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.table.Store(&routeTable{})
	return f, nil
}

// Close stops the background health checks. Queries still work.
func (f *Forwarder) Close() { f.cancel() }

// Forward answers req from the cache or from an upstream of the zone of
// its name. The answer carries req's ID.
func (f *Forwarder) Forward(ctx context.Context, req *dns.Msg) (*dns.Msg, error) {
	if len(req.Question) != 1 {
		return nil, fmt.Errorf("forward: %d questions", len(req.Question))
	}
	if f.cache != nil {
		if m := f.cache.Get(req); m != nil {
			return m, nil
		}
	}
	q := req.Question[0]
	group := f.table.Load().route(q.Name)
	if len(group) == 0 {
		return nil, fmt.Errorf("forward %s %s: %w", q.Name, dns.TypeToString[q.Qtype], ErrNoUpstreams)
	}
	resp, err := f.exchange(ctx, group, req)
	if err != nil {
		return nil, fmt.Errorf("forward %s %s: %w", q.Name, dns.TypeToString[q.Qtype], err)
	}
	if f.cache != nil {
		f.cache.Set(req, resp)
	}
	return resp, nil
}

// Cached returns the cached answer to req, with req's ID, or nil without
// one; it never waits. A nil answer is not counted as a cache miss: Forward
// counts it.
func (f *Forwarder) Cached(req *dns.Msg) *dns.Msg {
	if f.cache == nil || len(req.Question) != 1 {
		return nil
	}
	return f.cache.Peek(req)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
