package userspace

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// udpListener serves the datagrams of one entry: each client address has
// a session, a socket connected to the endpoint chosen for it, until the
// session is idle for the backend's UDPIdleTimeout.
type udpListener struct {
	b    *Backend
	conn *net.UDPConn
	svc  *service
	kind kind

	mu       sync.Mutex
	sessions map[netip.AddrPort]*udpSession
	closed   bool
}

func (b *Backend) listenUDP(svc *service, e entry) (listener, error) {
	lc := net.ListenConfig{Control: freebind}
	pc, err := lc.ListenPacket(context.Background(), e.key.network(), e.key.addr.String())
	if err != nil {
		return nil, err
	}
	l := &udpListener{b: b, conn: pc.(*net.UDPConn), svc: svc, kind: e.kind, sessions: map[netip.AddrPort]*udpSession{}}
	go l.serve()
	return l, nil
}

func (l *udpListener) owner() (*service, kind) { return l.svc, l.kind }

// close closes the socket and every session: replies can no longer be
// sent from the Service's address.
func (l *udpListener) close() {
	l.conn.Close()
	l.mu.Lock()
	l.closed = true
	ss := make([]*udpSession, 0, len(l.sessions))
	for _, s := range l.sessions {
		ss = append(ss, s)
	}
	l.mu.Unlock()
	for _, s := range ss {
		s.Close()
	}
}

func (l *udpListener) serve() {
	buf := make([]byte, 65535)
	for {
		n, src, err := l.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
		s := l.session(src)
		if s == nil {
			continue // dropped
		}
		s.last.Store(time.Now().UnixNano())
		if _, err := s.be.Write(buf[:n]); err != nil {
			s.Close() // the endpoint refused an earlier datagram
		}
	}
}

// session returns the client's session, making one when it has none or
// its endpoint is gone; nil means the datagram is dropped.
func (l *udpListener) session(client netip.AddrPort) *udpSession {
	p := l.svc.pool.Load()
	l.mu.Lock()
	s := l.sessions[client]
	l.mu.Unlock()
	if s != nil {
		if s.pool.Load() == p {
			return s
		}
		if p.holds(s.ep) {
			s.pool.Store(p)
			return s
		}
		s.Close()
	}
	eps, v := p.route(l.kind, client.Addr(), l.b.loc.Load())
	if v != accept {
		return nil
	}
	ep := l.svc.picker.pick(p, eps, client.Addr(), nil, time.Now())
	be, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(ep.addr))
	if err != nil {
		l.b.log.Debug("udp endpoint", "endpoint", ep.addr.String(), "err", err)
		return nil
	}
	l.svc.picker.remember(client.Addr(), ep.addr, p.sp.AffinitySeconds, time.Now())
	ep.active.Add(1)
	s = &udpSession{l: l, client: client, be: be, ep: ep}
	s.pool.Store(p)
	s.last.Store(time.Now().UnixNano())
	l.mu.Lock()
	if l.closed || !l.b.conns.add(s) {
		l.mu.Unlock()
		s.Close()
		return nil
	}
	l.sessions[client] = s
	l.mu.Unlock()
	go s.reply()
	return s
}

// holds says whether ep is still one of the pool's endpoints.
func (p *pool) holds(ep *endpoint) bool {
	return slices.Contains(p.cluster, ep) || slices.Contains(p.local, ep)
}

// udpSession is one client's datagrams to one endpoint.
type udpSession struct {
	l      *udpListener
	client netip.AddrPort
	be     *net.UDPConn
	ep     *endpoint
	pool   atomic.Pointer[pool]
	last   atomic.Int64 // unix nanoseconds of the last datagram either way
	once   sync.Once
}

// reply sends the endpoint's datagrams back to the client from the
// Service's address, until the session is idle or closed.
func (s *udpSession) reply() {
	idle := s.l.b.cfg.UDPIdleTimeout
	buf := make([]byte, 65535)
	for {
		s.be.SetReadDeadline(time.Unix(0, s.last.Load()).Add(idle))
		n, err := s.be.Read(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && time.Since(time.Unix(0, s.last.Load())) < idle {
			continue
		}
		if err != nil {
			s.Close()
			return
		}
		s.last.Store(time.Now().UnixNano())
		s.l.conn.WriteToUDPAddrPort(buf[:n], s.client)
	}
}

// Close ends the session.
func (s *udpSession) Close() error {
	s.once.Do(func() {
		s.l.mu.Lock()
		if s.l.sessions[s.client] == s {
			delete(s.l.sessions, s.client)
		}
		s.l.mu.Unlock()
		s.l.b.conns.del(s)
		s.be.Close()
		s.ep.active.Add(-1)
	})
	return nil
}
