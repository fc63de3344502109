package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// transport serves one socket.
type transport interface {
	// serve serves until shutdown or a failure, calling started once
	// it reads; it returns nil after shutdown.
	serve(started func()) error
	// shutdown stops reading and waits until the queries in flight are
	// answered or ctx ends.
	shutdown(ctx context.Context)
	// close closes the socket (also one never served).
	close()
}

// listen binds every configured address on UDP and TCP and returns a
// transport for each socket: UDP served by the server's own loop, TCP by
// miekg/dns.
func (s *Server) listen() ([]transport, error) {
	var ts []transport
	var bound []net.Addr
	batch := 1
	if s.batchable() {
		batch = udpBatchSize
	}
	for _, addr := range s.addrs {
		pc, ln, err := listenPair(addr)
		if err != nil {
			for _, t := range ts {
				t.close()
			}
			return nil, fmt.Errorf("dns server: listen on %s: %w", addr, err)
		}
		h := handler{s: s, server: serverLabel(addr)}
		ts = append(ts,
			newUDPServer(pc, udpReaders(), batch, h.handleUDP),
			tcpTransport{&mdns.Server{Listener: ln, Handler: h, ReadTimeout: tcpReadTimeout, WriteTimeout: tcpWriteTimeout,
				IdleTimeout: idleTimeout, MaxTCPQueries: -1}})
		bound = append(bound, pc.LocalAddr(), ln.Addr())
	}
	s.mu.Lock()
	s.bound = bound
	s.mu.Unlock()
	return ts, nil
}

// udpReaders is how many readers wait on each UDP socket: one per
// thread running Go code, and one more.
func udpReaders() int { return runtime.GOMAXPROCS(0) + 1 }

func idleTimeout() time.Duration { return tcpIdleTimeout }

// tcpTransport is a miekg/dns server on a TCP listener.
type tcpTransport struct{ srv *mdns.Server }

func (t tcpTransport) serve(started func()) error {
	t.srv.NotifyStartedFunc = started
	return t.srv.ActivateAndServe()
}

func (t tcpTransport) shutdown(ctx context.Context) { _ = t.srv.ShutdownContext(ctx) }

func (t tcpTransport) close() { _ = t.srv.Listener.Close() }

// listenPair opens UDP and TCP sockets on addr. For port 0 both get the
// same free port: TCP picks it, UDP follows, and a port taken on UDP is
// given up for another.
func listenPair(addr string) (*net.UDPConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, err
	}
	for range 10 {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, nil, err
		}
		if port == "0" {
			picked := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
			pc, err := listenUDP(net.JoinHostPort(host, picked))
			if errors.Is(err, syscall.EADDRINUSE) {
				ln.Close()
				continue
			}
			return udpOrClose(pc, ln, err)
		}
		pc, err := listenUDP(addr)
		return udpOrClose(pc, ln, err)
	}
	return nil, nil, errors.New("no port free on both UDP and TCP")
}

func listenUDP(addr string) (*net.UDPConn, error) {
	a, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	return net.ListenUDP("udp", a)
}

func udpOrClose(pc *net.UDPConn, ln net.Listener, err error) (*net.UDPConn, net.Listener, error) {
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return pc, ln, nil
}
