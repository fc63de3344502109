package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// Server defaults, as in CoreDNS's dnsserver.
const (
	DefaultShutdownTimeout = 5 * time.Second // CoreDNS's grace period
	tcpReadTimeout         = 3 * time.Second
	tcpWriteTimeout        = 5 * time.Second
	tcpIdleTimeout         = 10 * time.Second
	udpReadBuffer          = mdns.DefaultMsgSize // bytes read from a UDP query
)

// ServerConfig configures a Server.
type ServerConfig struct {
	// Addrs are the addresses to serve, each on UDP and TCP ("host:port";
	// port 0 picks one free port for both).
	Addrs []string
	// Cluster answers the cluster domain first; nil answers nothing.
	Cluster Answerer
	// Forwarder answers the other names; nil answers them SERVFAIL, as
	// CoreDNS does for names no plugin handles.
	Forwarder Forwarder
	// RecursionFrom are the clients whose queries may be forwarded; others
	// get REFUSED for names the Cluster answerer does not answer. Empty
	// allows everyone.
	RecursionFrom []netip.Prefix
	// Registry, if not nil, receives the coredns_dns_* metrics.
	Registry prometheus.Registerer
	// Logger logs one line per query at debug level and errors; nil
	// discards.
	Logger *slog.Logger
	// NotifyStarted, if not nil, is called once every listener serves.
	NotifyStarted func()
	// ShutdownTimeout bounds how long queries in flight may finish once
	// Run's context ends; 0 means 5 s.
	ShutdownTimeout time.Duration
}

// Server is the cluster DNS server: it answers from the Cluster answerer,
// then the Forwarder, over UDP and TCP.
type Server struct {
	addrs         []string
	cluster       Answerer
	forwarder     Forwarder
	recursionFrom []netip.Prefix
	log           *slog.Logger
	metrics       *metrics
	notify        func()
	grace         time.Duration

	label  string          // the server label of ServeDNS's metrics
	ctx    context.Context // passed to the answerer and forwarder; ends when Run returns
	cancel context.CancelFunc
	ran    atomic.Bool

	mu    sync.Mutex
	bound []net.Addr
}

// NewServer checks cfg and returns a Server; Run serves it.
func NewServer(cfg ServerConfig) (*Server, error) {
	if len(cfg.Addrs) == 0 {
		return nil, errors.New("dns server: no address")
	}
	for _, a := range cfg.Addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("dns server: address %q: %w", a, err)
		}
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s := &Server{
		addrs: cfg.Addrs, cluster: cfg.Cluster, forwarder: cfg.Forwarder,
		recursionFrom: cfg.RecursionFrom, log: cfg.Logger, metrics: m,
		notify: cfg.NotifyStarted, grace: cfg.ShutdownTimeout, label: serverLabel(cfg.Addrs[0]),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.grace <= 0 {
		s.grace = DefaultShutdownTimeout
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

// Addrs returns the bound addresses once Run has started: for each
// configured address its *net.UDPAddr, then its *net.TCPAddr.
func (s *Server) Addrs() []net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]net.Addr(nil), s.bound...)
}

// Run serves until ctx ends, then shuts down gracefully: it stops reading
// and waits up to the shutdown timeout for queries in flight. It returns
// nil after a shutdown, or the error that stopped a listener. A Server
// runs once.
func (s *Server) Run(ctx context.Context) error {
	if !s.ran.CompareAndSwap(false, true) {
		return errors.New("dns server: already run")
	}
	defer s.cancel()
	ts, err := s.listen()
	if err != nil {
		return err
	}
	errc := make(chan error, len(ts))
	started := make(chan struct{}, len(ts))
	for _, t := range ts {
		go func() { errc <- t.serve(func() { started <- struct{}{} }) }()
	}
	pending := len(ts)
	err = waitStarted(started, errc, len(ts))
	if err == nil {
		s.log.Info("dns server started", "addrs", fmt.Sprint(s.Addrs()))
		if s.notify != nil {
			s.notify()
		}
		select {
		case <-ctx.Done():
		case err = <-errc:
			pending--
		}
	}
	s.shutdown(ts, errc, pending)
	if err != nil {
		return fmt.Errorf("dns server: %w", err)
	}
	return nil
}

// waitStarted waits until n servers have started or one has failed.
func waitStarted(started <-chan struct{}, errc chan error, n int) error {
	for range n {
		select {
		case <-started:
		case err := <-errc:
			errc <- err // keep it for shutdown's count
			return err
		}
	}
	return nil
}

// shutdown stops the transports, gives queries in flight the grace
// period, then cancels them and waits for the pending serve loops to
// return.
func (s *Server) shutdown(ts []transport, errc <-chan error, pending int) {
	ctx, cancel := context.WithTimeout(context.Background(), s.grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, t := range ts {
		wg.Go(func() { t.shutdown(ctx) })
	}
	wg.Wait()
	s.cancel()
	for _, t := range ts {
		t.close() // also ends a serve loop that had not started
	}
	for range pending {
		<-errc
	}
	s.log.Info("dns server stopped")
}

// handler serves the queries of one listener, labelled with its address.
type handler struct {
	s      *Server
	server string // the metrics' server label, "dns://" + address
}

// ServeDNS implements mdns.Handler.
func (h handler) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) { h.s.serve(h.server, w, r) }

// handleUDP is the udpHandler of the listener.
func (h handler) handleUDP(r *mdns.Msg, client netip.AddrPort, buf []byte, quick bool) ([]byte, bool) {
	return h.s.handle(h.server, r, client, "udp", buf, quick)
}

// batchable says the UDP loop may read queries in batches: the queries
// that would wait can be told apart (a QuickAnswerer or none, a
// CachedForwarder or none).
func (s *Server) batchable() bool {
	if _, ok := s.cluster.(QuickAnswerer); s.cluster != nil && !ok {
		return false
	}
	if _, ok := s.forwarder.(CachedForwarder); s.forwarder != nil && !ok {
		return false
	}
	return true
}

// ServeDNS answers the query r through w. It implements mdns.Handler,
// so the request path can be tested without sockets; its metrics carry
// the first address's server label.
func (s *Server) ServeDNS(w mdns.ResponseWriter, r *mdns.Msg) { s.serve(s.label, w, r) }

func serverLabel(addr string) string { return "dns://" + addr }
