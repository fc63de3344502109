package dns

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"syscall"
	"time"

	mdns "github.com/miekg/dns"
)

// listen binds every configured address on UDP and TCP and returns a
// stopped miekg server for each socket.
func (s *Server) listen() ([]*mdns.Server, error) {
	var servers []*mdns.Server
	var bound []net.Addr
	for _, addr := range s.addrs {
		pc, ln, err := listenPair(addr)
		if err != nil {
			for _, srv := range servers {
				closeServerSocket(srv)
			}
			return nil, fmt.Errorf("dns server: listen on %s: %w", addr, err)
		}
		h := handler{s: s, server: serverLabel(addr)}
		servers = append(servers,
			&mdns.Server{PacketConn: pc, Handler: h, UDPSize: udpReadBuffer},
			&mdns.Server{Listener: ln, Handler: h, ReadTimeout: tcpReadTimeout, WriteTimeout: tcpWriteTimeout,
				IdleTimeout: idleTimeout, MaxTCPQueries: -1})
		bound = append(bound, pc.LocalAddr(), ln.Addr())
	}
	s.mu.Lock()
	s.bound = bound
	s.mu.Unlock()
	return servers, nil
}

func idleTimeout() time.Duration { return tcpIdleTimeout }

func closeServerSocket(srv *mdns.Server) {
	if srv.PacketConn != nil {
		srv.PacketConn.Close()
	}
	if srv.Listener != nil {
		srv.Listener.Close()
	}
}

// listenPair opens UDP and TCP sockets on addr. For port 0 both get the
// same free port: TCP picks it, UDP follows, and a port taken on UDP is
// given up for another.
func listenPair(addr string) (net.PacketConn, net.Listener, error) {
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
			pc, err := net.ListenPacket("udp", net.JoinHostPort(host, picked))
			if errors.Is(err, syscall.EADDRINUSE) {
				ln.Close()
				continue
			}
			return udpOrClose(pc, ln, err)
		}
		pc, err := net.ListenPacket("udp", addr)
		return udpOrClose(pc, ln, err)
	}
	return nil, nil, errors.New("no port free on both UDP and TCP")
}

func udpOrClose(pc net.PacketConn, ln net.Listener, err error) (net.PacketConn, net.Listener, error) {
	if err != nil {
		ln.Close()
		return nil, nil, err
	}
	return pc, ln, nil
}
