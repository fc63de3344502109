package main

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/proxy"
)

// programming is the network programming latency of one mode: from an
// EndpointSlice change reaching the proxier's tracker (as an informer
// handler delivers it) until the sync that programs it returns.
type programming struct {
	lat   []time.Duration
	syncs []time.Duration // how long each sync that carried changes took
	full  int             // of which full syncs
	lost  int             // changes whose sync failed
	err   error
}

// recorder collects what the proxier's sync hook reports.
type recorder struct {
	mu    sync.Mutex
	p     programming
	want  int
	first chan error // the result of the first (full) sync
	seen  bool
	done  chan struct{}
}

func newRecorder(want int) *recorder {
	return &recorder{want: want, first: make(chan error, 1), done: make(chan struct{})}
}

func (r *recorder) synced(info proxy.SyncInfo) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.seen {
		r.seen = true
		r.first <- info.Err
		return
	}
	if len(info.Changes.Triggers) == 0 {
		return
	}
	if info.Err != nil {
		r.p.lost += len(info.Changes.Triggers)
		r.p.err = info.Err
	} else {
		r.p.syncs = append(r.p.syncs, info.Duration)
		if info.Full {
			r.p.full++
		}
		for _, t := range info.Changes.Triggers {
			r.p.lat = append(r.p.lat, now.Sub(t))
		}
	}
	if len(r.p.lat)+r.p.lost >= r.want {
		select {
		case <-r.done:
		default:
			close(r.done)
		}
	}
}

func (r *recorder) result() programming {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p
}

// stream runs svcplane's proxier (trackers, runner with minSyncPeriod,
// Build, partial syncs) over b, feeds it the cluster, waits for the
// first full sync, then replaces one endpoint of a random Service
// cfg.rate times a second, cfg.changes times, and waits until every
// change is programmed.
func stream(ctx context.Context, cfg config, c *cluster, be *instance) (programming, error) {
	rec := newRecorder(cfg.changes)
	p := proxy.NewProxier(proxy.ProxierConfig{
		NodeName: nodeName,
		Families: []proxy.FamilyConfig{{
			Family: corev1.IPv4Protocol, Backend: be.Backend, Options: options(), NodeIPs: []netip.Addr{nodeIP},
		}},
		MinSyncPeriod: cfg.minSync,
		Hooks:         proxy.Hooks{Synced: rec.synced},
		Logger:        benchutil.Quiet(),
	}, changedAt)
	tr := p.Trackers()[0]
	for i := range c.services {
		tr.ServiceUpdate(nil, c.services[i])
		tr.SliceUpdate(c.slices[i], false)
	}
	p.SetSynced()
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- be.in(func() error { p.Run(runCtx); return nil }) }()
	defer func() { stop(); <-ran }()

	select {
	case err := <-rec.first:
		if err != nil {
			return programming{}, fmt.Errorf("first full sync: %w", err)
		}
	case <-ctx.Done():
		return programming{}, ctx.Err()
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / cfg.rate))
	defer tick.Stop()
	for range cfg.changes {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return programming{}, ctx.Err()
		}
		_, s := c.replace()
		tr.SliceUpdate(s, false)
		p.Changed()
	}
	select {
	case <-rec.done:
		return rec.result(), nil
	case <-ctx.Done():
		return programming{}, ctx.Err()
	}
}
