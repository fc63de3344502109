package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// measure runs peer p in mode m against the API's n Services in a new
// node namespace: its first sync, partial syncs after one endpoint
// change each, its memory, then first packets through its rules.
func (pb *peerBench) measure(ctx context.Context, p *peer, m mode, n int) *peerResult {
	r := &peerResult{}
	if p.err != nil {
		r.full = outcome{done: true, err: p.err}
		return r
	}
	nd, err := pb.b.ns.newNode(ctx)
	if err != nil {
		r.full = outcome{done: true, err: err}
		return r
	}
	defer nd.close(pb.b.ns)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := forwardAPI(pctx, nd.name, pb.apiAddr); err != nil {
		r.full = outcome{done: true, err: err}
		return r
	}
	logPath := filepath.Join(pb.dir, fmt.Sprintf("%s-%s-%d.log", strings.Fields(p.name)[0], m.flag, n))
	args := append(append(p.sub, peerArgs(pb.srv.AdminKubeconfig, m)...), p.extra(m)...)
	proc, err := startProxy(nd.name, p.bin, logPath, args, p.env(m))
	if err != nil {
		r.full = outcome{done: true, err: err}
		return r
	}
	defer proc.stop()
	pb.first(ctx, proc, r)
	pb.b.progressPeer(p, m, n, "first sync", r.full.withCPU())
	if !r.full.ok() {
		return r
	}
	pb.partials(ctx, proc, n, r)
	if r.rss, r.peak, err = proc.memory(); err != nil {
		r.rss, r.peak = -1, -1
	}
	if pb.b.cfg.connects > 0 {
		r.packetsOut = pb.b.timed(ctx, func(ctx context.Context) error {
			var err error
			r.packets, err = firstPackets(ctx, nd.name, n, pb.b.cfg.connects, peerIP)
			return err
		})
		pb.b.progressPeer(p, m, n, "first packets", r.packetsOut.String())
	}
	return r
}

func (b *bench) progressPeer(p *peer, m mode, n int, what, result string) {
	fmt.Fprintf(os.Stderr, "peers: %s, %s, %s: %s: %s\n", p.name, m.name, services(n), what, result)
}

// first waits for the proxy's first sync; its duration is the metric's.
func (pb *peerBench) first(ctx context.Context, proc *proxyProc, r *peerResult) {
	var c syncCounters
	r.full = pb.b.timed(ctx, func(ctx context.Context) error {
		var err error
		c, err = waitSyncs(ctx, proc, 1)
		return err
	})
	r.ready = time.Since(proc.started)
	r.full.cpu = proc.cpu()
	if r.full.ok() {
		r.full.d = time.Duration(c.sum / float64(c.count) * float64(time.Second))
	}
}

// partials times syncs after one endpoint change each, the proxy idle
// before every change.
func (pb *peerBench) partials(ctx context.Context, proc *proxyProc, n int, r *peerResult) {
	r.partialOut = outcome{done: true}
	for range pb.b.cfg.partials {
		before, err := settle(ctx, proc)
		if err == nil {
			err = pb.change(ctx, n)
		}
		if err != nil {
			r.partialOut = outcome{done: true, err: err}
			return
		}
		written := time.Now()
		var after syncCounters
		o := pb.b.timed(ctx, func(ctx context.Context) error {
			after, err = waitSyncs(ctx, proc, before.count+1)
			return err
		})
		if !o.ok() {
			r.partialOut = o
			return
		}
		r.programmed = append(r.programmed, time.Since(written))
		d := (after.sum - before.sum) / float64(after.count-before.count)
		r.partial = append(r.partial, time.Duration(d*float64(time.Second)))
	}
}

// waitSyncs polls the proxy's metrics until it has synced at least
// count times, and returns the totals then.
func waitSyncs(ctx context.Context, proc *proxyProc, count int) (syncCounters, error) {
	var last error
	for {
		if err := proc.exited(); err != nil {
			return syncCounters{}, err
		}
		c, err := proc.counters(ctx)
		if err == nil && c.count >= count {
			return c, nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil && c.count == 0 {
				return c, fmt.Errorf("%w (last scrape: %v)", ctx.Err(), last)
			}
			return c, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// settle waits until the proxy has not synced for 2 s (at most 30 s:
// a proxy that keeps syncing is measured as it is).
func settle(ctx context.Context, proc *proxyProc) (syncCounters, error) {
	c, err := proc.counters(ctx)
	if err != nil {
		return c, err
	}
	quiet := time.Now()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		now, err := proc.counters(ctx)
		if err != nil {
			return c, err
		}
		if now.count != c.count {
			c, quiet = now, time.Now()
		}
		if time.Since(quiet) >= 2*time.Second {
			return c, nil
		}
	}
	return c, nil
}
