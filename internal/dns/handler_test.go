package dns

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

func newQuestion(name string, qtype uint16) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

func withEDNS(m *mdns.Msg, size uint16, do bool, version uint8) *mdns.Msg {
	m.SetEdns0(size, do)
	m.IsEdns0().SetVersion(version)
	return m
}

// want describes the expected response.
type want struct {
	rcode   int
	answers int  // -1: any
	tc      bool // TC bit
	opt     *optWant
	check   func(t *testing.T, m *mdns.Msg)
}

type optWant struct {
	size uint16
	do   bool
}

func TestServeDNS(t *testing.T) {
	for _, tc := range []struct {
		name      string
		req       *mdns.Msg
		client    string
		tcp       bool
		notReady  bool
		forwarder *fakeForwarder // nil: no forwarder
		from      []netip.Prefix
		want      want
	}{
		{name: "cluster name", req: newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA),
			want: want{rcode: mdns.RcodeSuccess, answers: 1, check: func(t *testing.T, m *mdns.Msg) {
				if !m.Authoritative {
					t.Error("not authoritative")
				}
			}}},
		{name: "cluster name, other case", req: newQuestion("Kubernetes.Default.SVC.cluster.local.", mdns.TypeA),
			want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "unknown cluster name", req: newQuestion("nope.default.svc.cluster.local.", mdns.TypeA),
			want: want{rcode: mdns.RcodeNameError}},
		{name: "answerer not ready: its SERVFAIL", req: newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA),
			notReady: true, forwarder: &fakeForwarder{}, want: want{rcode: mdns.RcodeServerFailure}},
		{name: "answerer panic", req: newQuestion("panic.cluster.local.", mdns.TypeA),
			want: want{rcode: mdns.RcodeServerFailure}},
		{name: "forwarded", req: newQuestion("www.example.org.", mdns.TypeA), forwarder: &fakeForwarder{},
			want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "forwarder error", req: newQuestion("www.example.org.", mdns.TypeA), forwarder: &fakeForwarder{fail: true},
			want: want{rcode: mdns.RcodeServerFailure}},
		{name: "no forwarder", req: newQuestion("www.example.org.", mdns.TypeA),
			want: want{rcode: mdns.RcodeServerFailure}},
		{name: "recursion refused", req: newQuestion("www.example.org.", mdns.TypeA), client: "10.1.2.3:4000",
			forwarder: &fakeForwarder{}, from: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			want: want{rcode: mdns.RcodeRefused}},
		{name: "recursion allowed", req: newQuestion("www.example.org.", mdns.TypeA), client: "127.0.0.2:4000",
			forwarder: &fakeForwarder{}, from: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "cluster names need no recursion", req: newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA),
			client: "10.1.2.3:4000", from: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "ExternalName: the target's address follows its CNAME", req: newQuestion("ext.cluster.local.", mdns.TypeA),
			forwarder: &fakeForwarder{}, want: want{rcode: mdns.RcodeSuccess, answers: 2, check: func(t *testing.T, m *mdns.Msg) {
				if a, ok := m.Answer[1].(*mdns.A); !ok || a.Hdr.Name != "www.example.org." || a.A.String() != "192.0.2.99" {
					t.Errorf("answer %v", m.Answer)
				}
			}}},
		{name: "ExternalName: the CNAME alone when the target fails", req: newQuestion("ext.cluster.local.", mdns.TypeA),
			forwarder: &fakeForwarder{fail: true}, want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "ExternalName: CNAME asked, CNAME only", req: newQuestion("ext.cluster.local.", mdns.TypeCNAME),
			forwarder: &fakeForwarder{}, want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "a CNAME to itself is not followed", req: newQuestion("loop.cluster.local.", mdns.TypeA),
			want: want{rcode: mdns.RcodeSuccess, answers: 1}},
		{name: "notify", req: func() *mdns.Msg {
			m := newQuestion("cluster.local.", mdns.TypeSOA)
			m.Opcode = mdns.OpcodeNotify
			return m
		}(),
			want: want{rcode: mdns.RcodeNotImplemented, check: func(t *testing.T, m *mdns.Msg) {
				if m.Opcode != mdns.OpcodeNotify {
					t.Errorf("opcode %d", m.Opcode)
				}
			}}},
		{name: "update", req: func() *mdns.Msg {
			m := newQuestion("cluster.local.", mdns.TypeSOA)
			m.Opcode = mdns.OpcodeUpdate
			return m
		}(),
			want: want{rcode: mdns.RcodeNotImplemented}},
		{name: "no question", req: &mdns.Msg{MsgHdr: mdns.MsgHdr{Id: 7}}, want: want{rcode: mdns.RcodeFormatError}},
		{name: "two questions", req: func() *mdns.Msg {
			m := newQuestion("a.cluster.local.", mdns.TypeA)
			m.Question = append(m.Question, m.Question[0])
			return m
		}(), want: want{rcode: mdns.RcodeFormatError}},
		{name: "AXFR", req: newQuestion("cluster.local.", mdns.TypeAXFR), want: want{rcode: mdns.RcodeRefused}},
		{name: "IXFR", req: newQuestion("cluster.local.", mdns.TypeIXFR), want: want{rcode: mdns.RcodeRefused}},
		{name: "class CH", req: func() *mdns.Msg {
			m := newQuestion("version.bind.", mdns.TypeTXT)
			m.Question[0].Qclass = mdns.ClassCHAOS
			return m
		}(), want: want{rcode: mdns.RcodeRefused}},
		{name: "EDNS echoed", req: withEDNS(newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA), 4096, false, 0),
			want: want{rcode: mdns.RcodeSuccess, answers: 1, opt: &optWant{size: 1232}}},
		{name: "EDNS DO bit kept", req: withEDNS(newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA), 1400, true, 0),
			want: want{rcode: mdns.RcodeSuccess, answers: 1, opt: &optWant{size: 1232, do: true}}},
		{name: "EDNS version 1: BADVERS", req: withEDNS(newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA), 4096, false, 1),
			want: want{rcode: mdns.RcodeBadVers, opt: &optWant{size: 1232}}},
		{name: "UDP without EDNS truncated to 512", req: newQuestion("big.cluster.local.", mdns.TypeA),
			want: want{rcode: mdns.RcodeSuccess, answers: -1, tc: true}},
		{name: "UDP with a 4096 buffer not truncated", req: withEDNS(newQuestion("big.cluster.local.", mdns.TypeA), 4096, false, 0),
			want: want{rcode: mdns.RcodeSuccess, answers: 100, opt: &optWant{size: 1232}}},
		{name: "TCP not truncated", req: newQuestion("big.cluster.local.", mdns.TypeA), tcp: true,
			want: want{rcode: mdns.RcodeSuccess, answers: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			answerer := NewFakeAnswerer()
			answerer.NotReady.Store(tc.notReady)
			cfg := ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: answerer, RecursionFrom: tc.from}
			if tc.forwarder != nil {
				cfg.Forwarder = tc.forwarder
			}
			s, err := NewServer(cfg)
			if err != nil {
				t.Fatal(err)
			}
			client := tc.client
			if client == "" {
				client = "127.0.0.1:53512"
			}
			w := newRecorder(client, tc.tcp)
			s.ServeDNS(w, tc.req)
			m, err := w.msg()
			if err != nil {
				t.Fatal(err)
			}
			checkResponse(t, tc.req, m, len(w.wire[0]), tc.tcp, tc.want)
			if tc.forwarder != nil && tc.want.rcode == mdns.RcodeRefused && tc.forwarder.calls.Load() != 0 {
				t.Error("refused query was forwarded")
			}
		})
	}
}

func checkResponse(t *testing.T, req, m *mdns.Msg, wireLen int, tcp bool, w want) {
	t.Helper()
	if m.Id != req.Id || !m.Response {
		t.Errorf("id %d response %v, want id %d", m.Id, m.Response, req.Id)
	}
	if len(req.Question) == 1 && (len(m.Question) != 1 || m.Question[0] != req.Question[0]) {
		t.Errorf("question %v, want %v", m.Question, req.Question)
	}
	if m.Rcode != w.rcode {
		t.Errorf("rcode %s, want %s", rcodeString(m.Rcode), rcodeString(w.rcode))
	}
	if w.answers >= 0 && len(m.Answer) != w.answers {
		t.Errorf("%d answers, want %d", len(m.Answer), w.answers)
	}
	if m.Truncated != w.tc {
		t.Errorf("TC %v, want %v", m.Truncated, w.tc)
	}
	if !tcp && wireLen > 512 && req.IsEdns0() == nil {
		t.Errorf("%d bytes over UDP without EDNS", wireLen)
	}
	opt := m.IsEdns0()
	switch {
	case w.opt == nil && opt != nil:
		t.Errorf("unexpected OPT %v", opt)
	case w.opt != nil && opt == nil:
		t.Error("no OPT record")
	case w.opt != nil && (opt.UDPSize() != w.opt.size || opt.Do() != w.opt.do || opt.Version() != 0):
		t.Errorf("OPT size %d do %v version %d, want %d %v 0", opt.UDPSize(), opt.Do(), opt.Version(), w.opt.size, w.opt.do)
	}
	if w.check != nil {
		w.check(t, m)
	}
}

// TestResponseHeaderFromRequest checks that an answerer's ID, question
// and shared message never reach the client unchecked.
func TestResponseHeaderFromRequest(t *testing.T) {
	shared := new(mdns.Msg)
	shared.SetQuestion("other.cluster.local.", mdns.TypeAAAA)
	shared.Id = 999
	shared.Extra = make([]mdns.RR, 0, 4)
	s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: answerFunc(func(*mdns.Msg) *mdns.Msg { return shared })})
	if err != nil {
		t.Fatal(err)
	}
	req := withEDNS(newQuestion("A.cluster.local.", mdns.TypeA), 1232, false, 0)
	w := newRecorder("127.0.0.1:5000", false)
	s.ServeDNS(w, req)
	m, err := w.msg()
	if err != nil {
		t.Fatal(err)
	}
	checkResponse(t, req, m, len(w.wire[0]), false, want{rcode: mdns.RcodeSuccess, opt: &optWant{size: 1232}})
	if shared.Id != 999 || len(shared.Extra) != 0 || shared.Question[0].Name != "other.cluster.local." {
		t.Errorf("shared message changed: %v", shared)
	}
}

func TestResponsesIgnored(t *testing.T) {
	s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: NewFakeAnswerer()})
	if err != nil {
		t.Fatal(err)
	}
	req := newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA)
	req.Response = true
	w := newRecorder("127.0.0.1:5000", false)
	s.ServeDNS(w, req)
	if len(w.wire) != 0 {
		t.Errorf("answered a response")
	}
}

func TestQueryLog(t *testing.T) {
	logs := &logCapture{}
	s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: NewFakeAnswerer(), Logger: slog.New(logs)})
	if err != nil {
		t.Fatal(err)
	}
	req := newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA)
	req.Id = 4
	s.ServeDNS(newRecorder("127.0.0.1:53512", false), req)
	req = newQuestion("panic.cluster.local.", mdns.TypeA)
	req.Id = 5
	s.ServeDNS(newRecorder("[2001:db8::1]:53", true), req)
	lines := strings.Join(logs.lines(), "\n")
	for _, re := range []string{
		`(?m)^DEBUG 127\.0\.0\.1:53512 - 4 "A IN kubernetes\.default\.svc\.cluster\.local\. udp \d+ false 512" NOERROR qr,aa,rd \d+ [0-9.e-]+s$`,
		`(?m)^DEBUG \[2001:db8::1\]:53 - 5 "A IN panic\.cluster\.local\. tcp \d+ false 65535" SERVFAIL qr,rd \d+ [0-9.e-]+s$`,
		`(?m)^ERROR answerer panicked client=\[2001:db8::1\]:53 id=5 err=answerer bug.* name=panic\.cluster\.local\. type=A`,
	} {
		if !regexp.MustCompile(re).MatchString(lines) {
			t.Errorf("no log line matching %s in\n%s", re, lines)
		}
	}
}

// answerFunc is an Answerer made of a function.
type answerFunc func(*mdns.Msg) *mdns.Msg

func (f answerFunc) Answer(_ context.Context, req *mdns.Msg, _ netip.Addr) *mdns.Msg { return f(req) }
func (f answerFunc) Ready() bool                                                     { return true }

// BenchmarkServeDNS measures the request path without sockets.
func BenchmarkServeDNS(b *testing.B) {
	for _, bc := range []struct {
		name      string
		req       *mdns.Msg
		forwarder Forwarder
	}{
		{"cluster", newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA), nil},
		{"nxdomain", newQuestion("nope.default.svc.cluster.local.", mdns.TypeA), nil},
		{"forwarded", newQuestion("www.example.org.", mdns.TypeA), &fakeForwarder{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: NewFakeAnswerer(),
				Forwarder: bc.forwarder, Registry: prometheus.NewRegistry()})
			if err != nil {
				b.Fatal(err)
			}
			w := &discard{recorder{remote: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5353}}}
			b.ReportAllocs()
			for b.Loop() {
				s.ServeDNS(w, bc.req)
			}
		})
	}
}

// discard is a ResponseWriter that drops what is written.
type discard struct{ recorder }

func (d *discard) Write(b []byte) (int, error) { return len(b), nil }

// TestUnpackableAnswer checks that an answer that does not pack becomes
// SERVFAIL, and that a nil record does not crash the server.
func TestUnpackableAnswer(t *testing.T) {
	for name, rr := range map[string]mdns.RR{
		"bad owner name": &mdns.A{Hdr: mdns.RR_Header{Name: "bad..name.", Rrtype: mdns.TypeA, Class: mdns.ClassINET}},
		"nil record":     nil,
	} {
		s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: answerFunc(func(req *mdns.Msg) *mdns.Msg {
			m := new(mdns.Msg)
			m.SetReply(req)
			m.Answer = []mdns.RR{rr}
			return m
		})})
		if err != nil {
			t.Fatal(err)
		}
		req := newQuestion("a.cluster.local.", mdns.TypeA)
		w := newRecorder("127.0.0.1:5000", false)
		s.ServeDNS(w, req)
		m, err := w.msg()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkResponse(t, req, m, len(w.wire[0]), false, want{rcode: mdns.RcodeServerFailure})
	}
}

// TestCompression: as CoreDNS, a reply is compressed only when that
// keeps records from being truncated or, over UDP, when it is bigger
// than the fragmentation limit (1480 bytes over IPv4, 1220 over IPv6).
func TestCompression(t *testing.T) {
	s, err := NewServer(ServerConfig{Addrs: []string{"127.0.0.1:0"}, Cluster: NewFakeAnswerer()})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		req        *mdns.Msg
		remote     string
		tcp        bool
		compressed bool
	}{
		{"small", newQuestion("kubernetes.default.svc.cluster.local.", mdns.TypeA), "127.0.0.1:5000", false, false},
		{"truncated to 512", newQuestion("big.cluster.local.", mdns.TypeA), "127.0.0.1:5000", false, true},
		{"fits 4096, above 1480", withEDNS(newQuestion("big.cluster.local.", mdns.TypeA), 4096, false, 0), "127.0.0.1:5000", false, true},
		{"over TCP", newQuestion("big.cluster.local.", mdns.TypeA), "127.0.0.1:5000", true, false},
	} {
		w := newRecorder(tc.remote, tc.tcp)
		s.ServeDNS(w, tc.req)
		m, err := w.msg()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		m.Compress = false
		if got := len(w.wire[0]) < m.Len(); got != tc.compressed {
			t.Errorf("%s: compressed %v (%d bytes, %d uncompressed), want %v", tc.name, got, len(w.wire[0]), m.Len(), tc.compressed)
		}
	}
}
