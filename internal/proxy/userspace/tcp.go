package userspace

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// dialTimeouts are the connect attempts to successive endpoints, as the
// old kube-proxy userspace proxy made them: a refused or timed-out
// connect is retried on another endpoint, with a longer timeout.
var dialTimeouts = [...]time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}

// tcpListener accepts the connections of one entry.
type tcpListener struct {
	b    *Backend
	ln   *net.TCPListener
	svc  *service
	kind kind
}

func (b *Backend) listenTCP(svc *service, e entry) (listener, error) {
	lc := net.ListenConfig{Control: freebind}
	ln, err := lc.Listen(context.Background(), e.key.network(), e.key.addr.String())
	if err != nil {
		return nil, err
	}
	l := &tcpListener{b: b, ln: ln.(*net.TCPListener), svc: svc, kind: e.kind}
	go l.serve()
	return l, nil
}

func (l *tcpListener) owner() (*service, kind) { return l.svc, l.kind }

// close stops accepting; established connections go on.
func (l *tcpListener) close() { l.ln.Close() }

func (l *tcpListener) serve() {
	for {
		c, err := l.ln.AcceptTCP()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of file descriptors and the like: wait a little.
			l.b.log.Warn("accept", "listener", l.ln.Addr().String(), "err", err)
			time.Sleep(20 * time.Millisecond)
			continue
		}
		go l.b.relayTCP(c, l.svc, l.kind)
	}
}

// relayTCP connects c to an endpoint and copies both ways until both
// sides are done.
func (b *Backend) relayTCP(c *net.TCPConn, svc *service, k kind) {
	client := addrPortOf(c.RemoteAddr()).Addr()
	p := svc.pool.Load()
	eps, v := p.route(k, client, b.loc.Load())
	if v != accept || !b.conns.add(c) {
		reset(c)
		return
	}
	defer b.conns.del(c)
	be, ep := b.dial(svc, p, eps, client)
	if be == nil {
		reset(c)
		return
	}
	defer ep.active.Add(-1)
	if !b.conns.add(be) {
		reset(c)
		reset(be)
		return
	}
	defer b.conns.del(be)
	if b.smap != nil {
		switch err := b.smap.relay(c, be); {
		case err == nil:
			c.Close()
			be.Close()
			return
		case !errors.Is(err, errNotHanded):
			b.log.Debug("relay reset", "service", svc.name.String(), "err", err)
			reset(c)
			reset(be)
			return
		}
	}
	relay(c, be)
}

// dial connects to an endpoint of eps for client, trying up to four of
// them; the endpoint's count of active connections is raised on success.
func (b *Backend) dial(svc *service, p *pool, eps []*endpoint, client netip.Addr) (*net.TCPConn, *endpoint) {
	var tried []*endpoint
	for _, timeout := range dialTimeouts {
		ep := svc.picker.pick(p, eps, client, tried, time.Now())
		if ep == nil {
			break
		}
		ep.active.Add(1)
		d := net.Dialer{Timeout: timeout}
		c, err := d.Dial("tcp", ep.addr.String())
		if err == nil {
			svc.picker.remember(client, ep.addr, p.sp.AffinitySeconds, time.Now())
			return c.(*net.TCPConn), ep
		}
		ep.active.Add(-1)
		svc.picker.forget(client, ep.addr)
		b.log.Debug("endpoint connect failed, trying another", "service", svc.name.String(), "endpoint", ep.addr.String(), "err", err)
		tried = append(tried, ep)
	}
	return nil, nil
}

// relay copies client to backend and back (splice(2) through
// TCPConn.ReadFrom); an end's EOF is passed on as a half-close, an error
// resets both connections.
func relay(client, backend *net.TCPConn) {
	var once sync.Once
	abort := func() { once.Do(func() { reset(client); reset(backend) }) }
	done := make(chan struct{})
	go func() {
		defer close(done)
		if pipe(backend, client) != nil {
			abort()
		}
	}()
	if pipe(client, backend) != nil {
		abort()
	}
	<-done
	client.Close()
	backend.Close()
}

func pipe(dst, src *net.TCPConn) error {
	if _, err := dst.ReadFrom(src); err != nil {
		return err
	}
	return dst.CloseWrite()
}

// reset closes c with an RST.
func reset(c *net.TCPConn) {
	c.SetLinger(0)
	c.Close()
}

func addrPortOf(a net.Addr) netip.AddrPort {
	switch a := a.(type) {
	case *net.TCPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	case *net.UDPAddr:
		ap := a.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}
