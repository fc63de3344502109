package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"syscall"
	"time"

	"github.com/svcplane/svcplane/internal/proxy"
)

// outcome is one timed measurement.
type outcome struct {
	d     time.Duration
	err   error
	limit time.Duration // set when it did not finish in time
	done  bool          // it ran
	// cpu is the CPU time (user and system) the bench process and the
	// tools it waited for used meanwhile: the load of other processes
	// on the machine stretches d, not cpu.
	cpu time.Duration
}

func (o outcome) ok() bool { return o.done && o.err == nil && o.limit == 0 }

// sizeResult is everything measured for one mode at one number of Services.
type sizeResult struct {
	full, bare, anchor   outcome
	bareNote, anchorNote string
	stateBytes, beBytes  int64
	partial              []time.Duration
	partialOut           outcome
	check                outcome // one NeedsFullSync
	prog                 programming
	progOut              outcome
	packets              packets
	packetsOut           outcome
}

// bench runs the measurements and keeps their results by mode and size.
type bench struct {
	cfg         config
	ns          *namespaces
	results     map[string]map[int]*sizeResult
	peerResults map[string]*peerResult // by peerKey
}

func (b *bench) result(m mode, n int) *sizeResult {
	if b.results[m.name] == nil {
		b.results[m.name] = map[int]*sizeResult{}
	}
	if b.results[m.name][n] == nil {
		b.results[m.name][n] = &sizeResult{}
	}
	return b.results[m.name][n]
}

// timed runs fn with the measurement timeout. Only an interrupt (ctx
// done) is left for the caller to check.
func (b *bench) timed(ctx context.Context, fn func(context.Context) error) outcome {
	mctx, cancel := context.WithTimeout(ctx, b.cfg.timeout)
	defer cancel()
	cpu0 := cpuNow()
	start := time.Now()
	err := fn(mctx)
	o := outcome{d: time.Since(start), err: err, done: true, cpu: cpuNow() - cpu0}
	if err != nil && ctx.Err() == nil && errors.Is(mctx.Err(), context.DeadlineExceeded) {
		o.err, o.limit = nil, b.cfg.timeout
	}
	return o
}

func (b *bench) progress(m mode, n int, what string, o outcome) {
	fmt.Fprintf(os.Stderr, "%s, %s: %s: %s\n", m.name, services(n), what, o)
}

// mode measures one mode at every size.
func (b *bench) mode(ctx context.Context, m mode) error {
	for _, n := range b.cfg.runSizes() {
		text, st, err := b.loaded(ctx, m, n)
		if err != nil {
			return err
		}
		if text != nil && slices.Contains(b.cfg.sizes, n) {
			b.limits(ctx, m, n, text, st)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// loadedNode is a node namespace whose backend synced the cluster.
type loadedNode struct {
	m  mode
	n  int
	ns string
	c  *cluster
	in proxy.Input
	st *proxy.State
	be *instance
	r  *sizeResult
}

// loaded measures what needs the rules loaded in a node namespace: the
// full sync, memory, partial syncs, first packets and the sync loop. It
// returns the rules text of the full sync (nil if it failed).
func (b *bench) loaded(ctx context.Context, m mode, n int) ([]byte, *proxy.State, error) {
	nd, err := b.ns.newNode(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer nd.close(b.ns)
	ln := &loadedNode{m: m, n: n, ns: nd.name, c: newCluster(n), r: b.result(m, n)}
	h0 := heapNow()
	ln.in = ln.c.input()
	ln.st = proxy.Build(ln.in)
	h1 := heapNow()
	if ln.be, err = m.start(ctx, b.ns, nd.name); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", m.name, err)
	}
	ln.r.full = b.timed(ctx, func(ctx context.Context) error { return ln.be.sync(ctx, ln.st) })
	b.progress(m, n, "full sync", ln.r.full)
	if !ln.r.full.ok() {
		return nil, nil, ctx.Err()
	}
	text := ln.be.rules()
	// The heap holds the text now, which the backend does not.
	ln.r.stateBytes, ln.r.beBytes = h1-h0, heapNow()-h1-int64(cap(text))
	st := ln.st
	if n == b.cfg.largest() {
		b.partials(ctx, ln)
	}
	b.packets(ctx, ln)
	if n == b.cfg.largest() {
		b.loop(ctx, ln)
	}
	return text, st, ctx.Err()
}

// partials times the check the sync loop makes before a sync
// (NeedsFullSync), then partial syncs, each after one endpoint change.
func (b *bench) partials(ctx context.Context, ln *loadedNode) {
	ln.r.check = b.timed(ctx, func(ctx context.Context) error {
		return ln.be.in(func() error { ln.be.NeedsFullSync(ctx); return nil })
	})
	b.progress(ln.m, ln.n, "NeedsFullSync", ln.r.check)
	for range b.cfg.partials {
		ln.st = ln.c.partial(&ln.in, ln.st)
		o := b.timed(ctx, func(ctx context.Context) error { return ln.be.sync(ctx, ln.st) })
		if !o.ok() {
			ln.r.partialOut = o
			return
		}
		ln.r.partial = append(ln.r.partial, o.d)
	}
	ln.r.partialOut = outcome{done: true}
	b.progress(ln.m, ln.n, "partial syncs (median)", outcome{d: median(ln.r.partial), done: true})
}

// packets times connects to the ClusterIPs.
func (b *bench) packets(ctx context.Context, ln *loadedNode) {
	if b.cfg.connects == 0 {
		return
	}
	ln.r.packetsOut = b.timed(ctx, func(ctx context.Context) error {
		var err error
		ln.r.packets, err = firstPackets(ctx, ln.ns, ln.n, b.cfg.connects, clusterIP)
		return err
	})
	b.progress(ln.m, ln.n, "first packets", ln.r.packetsOut)
}

// loop streams changes through the sync loop.
func (b *bench) loop(ctx context.Context, ln *loadedNode) {
	if b.cfg.changes == 0 {
		return
	}
	ln.r.progOut = b.timed(ctx, func(ctx context.Context) error {
		var err error
		ln.r.prog, err = stream(ctx, b.cfg, ln.c, ln.be)
		return err
	})
	b.progress(ln.m, ln.n, "sync loop", ln.r.progOut)
}

// limits times the bare apply of the backend's own rules text into an
// empty namespace, and kube-proxy's layout where it differs.
func (b *bench) limits(ctx context.Context, m mode, n int, text []byte, st *proxy.State) {
	r := b.result(m, n)
	r.bare = b.apply(ctx, m, text)
	r.bareNote = fmt.Sprintf("`%s`, %s", m.tool, size(len(text)))
	b.progress(m, n, "bare apply", r.bare)
	if m.anchor == nil || !b.cfg.kubeProxy {
		return
	}
	kp, chains := m.anchor(st)
	r.anchor = b.apply(ctx, m, kp)
	r.anchorNote = fmt.Sprintf("`nft -f`, %s chains, %s", thousands(chains), size(len(kp)))
	b.progress(m, n, "kube-proxy's layout", r.anchor)
}

// apply times m.apply of text into a new empty namespace.
func (b *bench) apply(ctx context.Context, m mode, text []byte) outcome {
	ns, err := b.ns.add("bare")
	if err != nil {
		return outcome{err: err, done: true}
	}
	defer b.ns.del(ns)
	return b.timed(ctx, func(ctx context.Context) error { return m.apply(ctx, b.ns, ns, text) })
}

// cpuNow is the CPU time used so far by this process and by the
// children it waited for.
func cpuNow() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// heapNow is the live Go heap after a collection.
func heapNow() int64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
