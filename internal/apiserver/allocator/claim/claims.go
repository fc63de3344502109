// Package claim makes Service cluster IP and node port allocation safe for
// several API servers sharing one storage: every allocated value is also a
// claim key (Prefix + "ips/<family>/<ip>" or "nodeports/<port>") created
// with a guarded create-if-absent, so of two servers that pick the same
// value only one gets it.
//
// Claims wraps the in-memory allocators of package allocator: they still
// check ranges, pick candidates (static and dynamic bands) and answer the
// same errors, while the claims decide who holds what. For binds them to
// one write (its context and the Service that will hold the values), so
// allocator.Allocators and allocator.Txn work unchanged. Start marks what
// is claimed and claims what stored Services hold; Run keeps the local
// bitmaps current with a watch on Prefix and releases, after a grace
// period, claims no Service holds. See ../README.md.
package claim

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
	"github.com/svcplane/svcplane/internal/storage"
)

// Defaults of Config.
const (
	DefaultGrace    = time.Minute
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 10 * time.Second
)

// Config sets up Claims.
type Config struct {
	// Store keeps the claims. Required.
	Store storage.Store
	// Local are the in-memory allocators to wrap. Required; Claims marks
	// in them what is claimed, so they should not be used directly.
	Local *allocator.Allocators
	// Server names this API server in the claims it writes.
	Server string
	// Grace is how long a claim no Service holds (or a Service's value
	// without a claim) must be seen so before the sweep acts on it.
	Grace time.Duration
	// Interval spaces the sweeps.
	Interval time.Duration
	// Timeout bounds each storage call.
	Timeout time.Duration
	// Logger receives what the watch and the sweep do; nil discards it.
	Logger *slog.Logger
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// ListServices reads every stored Service.
type ListServices func(ctx context.Context) ([]*v1.Service, error)

// Claims are the claiming allocators of a cluster.
type Claims struct {
	cfg    Config
	io     *claimStore
	ips    map[v1.IPFamily]*Range[netip.Addr]
	ports  *Range[int]
	spaces []keyspace
	rev    int64 // the revision Start read the claims at
}

// New wraps cfg.Local.
func New(cfg Config) (*Claims, error) {
	if cfg.Store == nil || cfg.Local == nil || cfg.Local.NodePorts == nil {
		return nil, errors.New("claims need a store and local allocators")
	}
	cfg = cfg.withDefaults()
	io := &claimStore{store: cfg.Store, server: cfg.Server, timeout: cfg.Timeout, now: cfg.Now}
	c := &Claims{cfg: cfg, io: io, ips: map[v1.IPFamily]*Range[netip.Addr]{}}
	for family, local := range cfg.Local.IPs {
		c.ips[family] = newRange(local, ipCodec(family), allocator.ErrAllocated, io)
		c.spaces = append(c.spaces, c.ips[family])
	}
	c.ports = newRange(cfg.Local.NodePorts, portCodec(), allocator.ErrPortAllocated, io)
	c.spaces = append(c.spaces, c.ports)
	return c, nil
}

func (cfg Config) withDefaults() Config {
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// For returns the allocators one Service write uses: claims are made with
// ctx for holder (see Holder), and released only if holder has them.
func (c *Claims) For(ctx context.Context, holder string) *allocator.Allocators {
	a := &allocator.Allocators{IPs: map[v1.IPFamily]allocator.IPAllocator{}, Primary: c.cfg.Local.Primary}
	for family, r := range c.ips {
		a.IPs[family] = r.Bind(ctx, holder)
	}
	a.NodePorts = c.ports.Bind(ctx, holder)
	return a
}

// IPs returns the range of family, nil if there is none.
func (c *Claims) IPs(family v1.IPFamily) *Range[netip.Addr] { return c.ips[family] }

// NodePorts returns the node port range.
func (c *Claims) NodePorts() *Range[int] { return c.ports }

// Run keeps the local allocators current with a watch on the claims and
// sweeps every Interval, until ctx ends. Call it after Start.
func (c *Claims) Run(ctx context.Context, list ListServices) {
	var wg sync.WaitGroup
	wg.Go(func() { c.watch(ctx) })
	wg.Go(func() { c.sweepEvery(ctx, list) })
	wg.Wait()
}

func (c *Claims) mark(key string) {
	for _, s := range c.spaces {
		if s.owns(key) {
			s.mark(key)
		}
	}
}

func (c *Claims) unmark(key string) {
	for _, s := range c.spaces {
		if s.owns(key) {
			s.unmark(key)
		}
	}
}
