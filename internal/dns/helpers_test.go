package dns

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"

	mdns "github.com/miekg/dns"
)

// FakeAnswerer answers the zone cluster.local. for the tests of this
// package and of dns_test:
//
//	<name>.cluster.local. A 10.96.0.<n>   for the names of Records
//	big.cluster.local.    A × 100         (too big for 512 bytes)
//	panic.cluster.local.  panics
//	other names in the zone: NXDOMAIN; all of them SERVFAIL until Ready
type FakeAnswerer struct {
	NotReady atomic.Bool
	Records  map[string]string // lower-case name → IPv4
	Calls    atomic.Int64
}

// NewFakeAnswerer returns a ready answerer knowing kubernetes.default.
func NewFakeAnswerer() *FakeAnswerer {
	return &FakeAnswerer{Records: map[string]string{"kubernetes.default.svc.cluster.local.": "10.96.0.1"}}
}

const fakeZone = "cluster.local."

// Answer implements Answerer.
func (a *FakeAnswerer) Answer(_ context.Context, req *mdns.Msg, _ netip.Addr) *mdns.Msg {
	a.Calls.Add(1)
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	if !mdns.IsSubDomain(fakeZone, name) {
		return nil
	}
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	if a.NotReady.Load() {
		m.Rcode = mdns.RcodeServerFailure
		return m
	}
	switch {
	case name == "panic."+fakeZone:
		panic("answerer bug")
	case name == "big."+fakeZone:
		for i := range 100 {
			m.Answer = append(m.Answer, &mdns.A{Hdr: header(q.Name, mdns.TypeA), A: net.IPv4(10, 1, byte(i/256), byte(i%256))})
		}
	case name == "ext."+fakeZone:
		m.Answer = []mdns.RR{&mdns.CNAME{Hdr: header(q.Name, mdns.TypeCNAME), Target: "www.example.org."}}
	case name == "loop."+fakeZone:
		m.Answer = []mdns.RR{&mdns.CNAME{Hdr: header(q.Name, mdns.TypeCNAME), Target: "loop." + fakeZone}}
	case a.Records[name] != "":
		m.Answer = []mdns.RR{&mdns.A{Hdr: header(q.Name, mdns.TypeA), A: net.ParseIP(a.Records[name])}}
	default:
		m.Rcode = mdns.RcodeNameError
		m.Ns = []mdns.RR{&mdns.SOA{Hdr: header(fakeZone, mdns.TypeSOA), Ns: "ns.dns." + fakeZone,
			Mbox: "hostmaster." + fakeZone, Serial: 1, Refresh: 7200, Retry: 1800, Expire: 86400, Minttl: 5}}
	}
	return m
}

// AnswerQuick implements QuickAnswerer: the fake never waits.
func (a *FakeAnswerer) AnswerQuick(ctx context.Context, req *mdns.Msg, client netip.Addr) (*mdns.Msg, bool) {
	return a.Answer(ctx, req, client), true
}

// Ready implements Answerer.
func (a *FakeAnswerer) Ready() bool { return !a.NotReady.Load() }

func header(name string, rrtype uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: rrtype, Class: mdns.ClassINET, Ttl: 5}
}

// fakeForwarder answers every name with A 192.0.2.99, or fails.
type fakeForwarder struct {
	fail  bool
	calls atomic.Int64
}

func (f *fakeForwarder) Forward(_ context.Context, req *mdns.Msg) (*mdns.Msg, error) {
	f.calls.Add(1)
	if f.fail {
		return nil, errors.New("upstream unreachable")
	}
	m := new(mdns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	m.Answer = []mdns.RR{&mdns.A{Hdr: header(req.Question[0].Name, mdns.TypeA), A: net.IPv4(192, 0, 2, 99)}}
	return m, nil
}

// recorder is a ResponseWriter that keeps what was written.
type recorder struct {
	remote net.Addr
	wire   [][]byte
}

func newRecorder(remote string, tcp bool) *recorder {
	ap := netip.MustParseAddrPort(remote)
	if tcp {
		return &recorder{remote: net.TCPAddrFromAddrPort(ap)}
	}
	return &recorder{remote: net.UDPAddrFromAddrPort(ap)}
}

func (r *recorder) LocalAddr() net.Addr  { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }
func (r *recorder) RemoteAddr() net.Addr { return r.remote }
func (r *recorder) Write(b []byte) (int, error) {
	r.wire = append(r.wire, append([]byte(nil), b...))
	return len(b), nil
}
func (r *recorder) Close() error        { return nil }
func (r *recorder) TsigStatus() error   { return nil }
func (r *recorder) TsigTimersOnly(bool) {}
func (r *recorder) Hijack()             {}

func (r *recorder) WriteMsg(m *mdns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	_, err = r.Write(b)
	return err
}

// msg unpacks the only response written.
func (r *recorder) msg() (*mdns.Msg, error) {
	if len(r.wire) != 1 {
		return nil, fmt.Errorf("%d responses written", len(r.wire))
	}
	m := new(mdns.Msg)
	return m, m.Unpack(r.wire[0])
}

// logCapture is a slog handler keeping the messages of records.
type logCapture struct {
	mu   sync.Mutex
	msgs []string
}

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }
func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	line := r.Level.String() + " " + r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	c.msgs = append(c.msgs, line)
	return nil
}

func (c *logCapture) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.msgs...)
}
