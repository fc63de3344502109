package dns_test

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcplane/svcplane/internal/dns"
	"github.com/svcplane/svcplane/internal/dns/cache"
	"github.com/svcplane/svcplane/internal/dns/forward"
)

// upstream is a fake upstream DNS server on 127.0.0.1, UDP and TCP on
// one port, answering every A question with ip, TTL 300.
type upstream struct {
	addr    string
	queries atomic.Int64
}

func startUpstream(t *testing.T, ip string) *upstream {
	t.Helper()
	u := &upstream{}
	h := mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		u.queries.Add(1)
		m := new(mdns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		if r.Question[0].Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR(r.Question[0].Name + " 300 IN A " + ip)
			m.Answer = []mdns.RR{rr}
		}
		w.WriteMsg(m)
	})
	pc, ln := listenLoopback(t)
	u.addr = ln.Addr().String()
	for _, srv := range []*mdns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go srv.ActivateAndServe()
		<-started
		t.Cleanup(func() { srv.Shutdown() })
	}
	return u
}

func listenLoopback(t *testing.T) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)))
		if err == nil {
			return pc, ln
		}
		ln.Close()
	}
	t.Fatal("no free port for UDP and TCP")
	return nil, nil
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

// clock is a settable time source for the cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// stack is a running server with a fake answerer, a forwarder with a
// cache, and their shared metrics registry.
type stack struct {
	server   *dns.Server
	answerer *dns.FakeAnswerer
	registry *prometheus.Registry
	clock    *clock
	addr     string // where both UDP and TCP are served
}

// startStack starts a server on 127.0.0.1:0 forwarding to upstreams (and
// stubs) and stops it when the test ends.
func startStack(t *testing.T, upstreams []string, stubs map[string][]string) *stack {
	t.Helper()
	st := &stack{answerer: dns.NewFakeAnswerer(), registry: prometheus.NewRegistry(),
		clock: &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}}
	c, err := cache.New(cache.Config{Now: st.clock.Now, Registry: st.registry})
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := forward.New(forward.Config{Upstreams: upstreams, StubDomains: stubs, Policy: forward.PolicySequential,
		Timeout: 500 * time.Millisecond, Cache: c, Registry: st.registry})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fwd.Close)
	started := make(chan struct{})
	st.server, err = dns.NewServer(dns.ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: st.answerer, Forwarder: fwd,
		Registry: st.registry, NotifyStarted: func() { close(started) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- st.server.Run(ctx) }()
	select {
	case <-started:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	addrs := st.server.Addrs()
	if len(addrs) != 2 || addrs[0].String() != addrs[1].String() {
		t.Fatalf("bound %v, want UDP and TCP on one port", addrs)
	}
	st.addr = addrs[0].String()
	return st
}

// exchange asks the stack name/qtype over proto, with an EDNS buffer if
// bufsize is not 0.
func (st *stack) exchange(t *testing.T, proto, name string, qtype uint16, bufsize uint16) *mdns.Msg {
	t.Helper()
	req := new(mdns.Msg)
	req.SetQuestion(name, qtype)
	if bufsize != 0 {
		req.SetEdns0(bufsize, false)
	}
	c := &mdns.Client{Net: proto, Timeout: 5 * time.Second}
	resp, _, err := c.Exchange(req, st.addr)
	if err != nil {
		t.Fatalf("%s %s: %v", proto, name, err)
	}
	if resp.Id != req.Id || len(resp.Question) != 1 || resp.Question[0] != req.Question[0] {
		t.Fatalf("response %v does not match request %v", resp, req)
	}
	return resp
}

func firstA(m *mdns.Msg) string {
	for _, rr := range m.Answer {
		if a, ok := rr.(*mdns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

func TestServeOverUDPAndTCP(t *testing.T) {
	up := startUpstream(t, "192.0.2.1")
	st := startStack(t, []string{up.addr}, nil)
	for _, proto := range []string{"udp", "tcp"} {
		for _, tc := range []struct {
			name, want string
			rcode      int
		}{
			{"kubernetes.default.svc.cluster.local.", "10.96.0.1", mdns.RcodeSuccess},
			{"missing.default.svc.cluster.local.", "", mdns.RcodeNameError},
			{"www.example.org.", "192.0.2.1", mdns.RcodeSuccess},
		} {
			m := st.exchange(t, proto, tc.name, mdns.TypeA, 0)
			if m.Rcode != tc.rcode || firstA(m) != tc.want {
				t.Errorf("%s %s: %s %q, want %s %q", proto, tc.name, mdns.RcodeToString[m.Rcode], firstA(m),
					mdns.RcodeToString[tc.rcode], tc.want)
			}
		}
	}
}

func TestTruncatedOverUDPWholeOverTCP(t *testing.T) {
	st := startStack(t, []string{deadAddr(t)}, nil)
	for _, tc := range []struct {
		proto   string
		bufsize uint16
		tc      bool
		answers int
	}{
		{"udp", 0, true, -1},
		{"udp", 512, true, -1},
		{"udp", 4096, false, 100},
		{"tcp", 0, false, 100},
	} {
		m := st.exchange(t, tc.proto, "big.cluster.local.", mdns.TypeA, tc.bufsize)
		if m.Truncated != tc.tc || (tc.answers >= 0 && len(m.Answer) != tc.answers) {
			t.Errorf("%s bufsize %d: TC %v, %d answers; want %v, %d", tc.proto, tc.bufsize, m.Truncated, len(m.Answer), tc.tc, tc.answers)
		}
		if opt := m.IsEdns0(); (opt != nil) != (tc.bufsize != 0) || (opt != nil && opt.UDPSize() != 1232) {
			t.Errorf("%s bufsize %d: OPT %v", tc.proto, tc.bufsize, opt)
		}
	}
}

func TestAnswererNotReady(t *testing.T) {
	up := startUpstream(t, "192.0.2.1")
	st := startStack(t, []string{up.addr}, nil)
	st.answerer.NotReady.Store(true)
	if m := st.exchange(t, "udp", "kubernetes.default.svc.cluster.local.", mdns.TypeA, 0); m.Rcode != mdns.RcodeServerFailure {
		t.Errorf("rcode %s, want SERVFAIL", mdns.RcodeToString[m.Rcode])
	}
	if up.queries.Load() != 0 {
		t.Error("a cluster name was forwarded")
	}
}

func TestFailoverAndStubDomains(t *testing.T) {
	live := startUpstream(t, "192.0.2.1")
	corp := startUpstream(t, "192.0.2.2")
	st := startStack(t, []string{deadAddr(t), live.addr}, map[string][]string{"corp.example.": {deadAddr(t), corp.addr}})
	for _, tc := range []struct{ name, want string }{
		{"www.example.org.", "192.0.2.1"},
		{"host.corp.example.", "192.0.2.2"},
		{"www.example.org.", "192.0.2.1"},
	} {
		if m := st.exchange(t, "udp", tc.name, mdns.TypeA, 0); firstA(m) != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, m, tc.want)
		}
	}
}

func TestCacheAndMetrics(t *testing.T) {
	up := startUpstream(t, "192.0.2.1")
	st := startStack(t, []string{up.addr}, nil)
	for _, step := range []struct {
		advance time.Duration
		ttl     uint32
		queries int64
	}{
		{0, 300, 1}, {60 * time.Second, 240, 1}, {240 * time.Second, 300, 2},
	} {
		st.clock.Advance(step.advance)
		m := st.exchange(t, "udp", "www.example.org.", mdns.TypeA, 0)
		if len(m.Answer) != 1 || m.Answer[0].Header().Ttl != step.ttl || up.queries.Load() != step.queries {
			t.Errorf("after %v: %v, %d upstream queries; want TTL %d, %d queries", step.advance, m.Answer, up.queries.Load(), step.ttl, step.queries)
		}
	}
	st.exchange(t, "tcp", "kubernetes.default.svc.cluster.local.", mdns.TypeA, 0)

	samples := gather(t, st.registry)
	for _, name := range []string{
		"coredns_dns_requests_total", "coredns_dns_responses_total", "coredns_dns_request_duration_seconds",
		"coredns_dns_request_size_bytes", "coredns_dns_response_size_bytes",
		"coredns_cache_hits_total", "coredns_cache_misses_total", "coredns_cache_requests_total", "coredns_cache_entries",
		"coredns_proxy_request_duration_seconds",
	} {
		if len(samples[name]) == 0 {
			t.Errorf("metric %s missing", name)
		}
	}
	counts := map[string]float64{}
	for _, s := range samples["coredns_dns_requests_total"] {
		if s.labels["server"] != "dns://127.0.0.1:0" || s.labels["zone"] != "." || s.labels["family"] != "1" {
			t.Errorf("requests_total labels %v", s.labels)
		}
		counts[s.labels["proto"]+" "+s.labels["type"]] += s.value
	}
	for _, s := range samples["coredns_dns_responses_total"] {
		counts[s.labels["rcode"]+" "+s.labels["plugin"]] += s.value
	}
	for _, s := range samples["coredns_cache_hits_total"] {
		counts["cache hits "+s.labels["type"]] += s.value
	}
	want := map[string]float64{"udp A": 3, "tcp A": 1, "NOERROR forward": 3, "NOERROR kubernetes": 1, "cache hits success": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %v, want %v (all: %v)", k, counts[k], v, counts)
		}
	}
}

// sample is one metric of a gathered family: its labels and its counter
// or gauge value.
type sample struct {
	labels map[string]string
	value  float64
}

func gather(t *testing.T, reg *prometheus.Registry) map[string][]sample {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]sample{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			s := sample{labels: map[string]string{}, value: m.GetCounter().GetValue() + m.GetGauge().GetValue()}
			for _, l := range m.GetLabel() {
				s.labels[l.GetName()] = l.GetValue()
			}
			out[f.GetName()] = append(out[f.GetName()], s)
		}
	}
	return out
}

func TestRecursionFrom(t *testing.T) {
	up := startUpstream(t, "192.0.2.1")
	fwd, err := forward.New(forward.Config{Upstreams: []string{up.addr}})
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Close()
	started := make(chan struct{})
	s, err := dns.NewServer(dns.ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: dns.NewFakeAnswerer(), Forwarder: fwd,
		RecursionFrom: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, NotifyStarted: func() { close(started) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	<-started
	defer func() { cancel(); <-done }()
	st := &stack{addr: s.Addrs()[0].String()}
	if m := st.exchange(t, "udp", "www.example.org.", mdns.TypeA, 0); m.Rcode != mdns.RcodeRefused {
		t.Errorf("rcode %s, want REFUSED", mdns.RcodeToString[m.Rcode])
	}
	if m := st.exchange(t, "udp", "kubernetes.default.svc.cluster.local.", mdns.TypeA, 0); m.Rcode != mdns.RcodeSuccess {
		t.Errorf("cluster name: rcode %s", mdns.RcodeToString[m.Rcode])
	}
}
