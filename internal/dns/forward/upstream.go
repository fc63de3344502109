package forward

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// upstream is one upstream server and its health. It is down from its
// first failure until a health check or a query succeeds.
type upstream struct {
	addr     string // ip:port
	fails    atomic.Uint32
	checking atomic.Bool        // a health check goroutine runs
	ctx      context.Context    // ends when the upstream is removed or the forwarder closed
	stop     context.CancelFunc // ends ctx
}

func (u *upstream) down() bool { return u.fails.Load() > 0 }

// markDown records a failure of u and starts its health checks.
func (f *Forwarder) markDown(u *upstream, err error) {
	if u.fails.Add(1) == 1 {
		f.log.Warn("upstream down", "upstream", u.addr, "err", err)
	}
	f.startHealthCheck(u)
}

// markUp records that u answered.
func (f *Forwarder) markUp(u *upstream) {
	if u.fails.Load() > 0 && u.fails.Swap(0) > 0 {
		f.log.Info("upstream up", "upstream", u.addr)
	}
}

func (f *Forwarder) startHealthCheck(u *upstream) {
	if u.ctx.Err() != nil || !u.checking.CompareAndSwap(false, true) {
		return
	}
	go f.healthCheck(u)
}

// healthCheck checks u until it is healthy, and again if it failed in
// the meantime, so that a down upstream always has a check running.
func (f *Forwarder) healthCheck(u *upstream) {
	for {
		f.checkUntilHealthy(u)
		u.checking.Store(false)
		if !u.down() || u.ctx.Err() != nil || !u.checking.CompareAndSwap(false, true) {
			return
		}
	}
}

// checkUntilHealthy sends a health check to u every interval until one
// succeeds or u is removed.
func (f *Forwarder) checkUntilHealthy(u *upstream) {
	tick := time.NewTicker(f.interval)
	defer tick.Stop()
	for {
		healthy := f.check(u) == nil
		if healthy {
			f.markUp(u)
		} else {
			u.fails.Add(1)
			f.metrics.healthFailures.WithLabelValues(proxyName, u.addr).Inc()
		}
		if f.onCheck != nil {
			f.onCheck(u.addr, healthy)
		}
		if healthy {
			return
		}
		select {
		case <-u.ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// check sends ". IN NS" to u, as CoreDNS does: any well-formed reply,
// whatever its rcode, means the upstream is alive.
func (f *Forwarder) check(u *upstream) error {
	ping := new(dns.Msg)
	ping.SetQuestion(".", dns.TypeNS)
	m, _, err := f.probe.ExchangeContext(u.ctx, ping, u.addr)
	if err != nil && m != nil && (m.Response || m.Opcode == dns.OpcodeQuery) {
		err = nil
	}
	return err
}
