package forward

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/svcplane/svcplane/internal/dns/cache"
)

// newTestForwarder returns a forwarder for cfg whose health checks report
// to checks (if not nil), closed when the test ends.
func newTestForwarder(t *testing.T, cfg Config, checks chan<- string) *Forwarder {
	t.Helper()
	f, err := newForwarder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	if checks != nil {
		f.onCheck = func(addr string, healthy bool) {
			select {
			case checks <- fmt.Sprintf("%s %v", addr, healthy):
			default:
			}
		}
	}
	if err := f.SetUpstreams(cfg.Upstreams); err != nil {
		t.Fatal(err)
	}
	if err := f.SetStubDomains(cfg.StubDomains); err != nil {
		t.Fatal(err)
	}
	return f
}

func question(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	return m
}

// answerIP returns the address of the first A record of m, or "".
func answerIP(m *dns.Msg) string {
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			return a.A.String()
		}
	}
	return ""
}

func TestForwardUDP(t *testing.T) {
	up := startUpstream(t, answerA("192.0.2.1"))
	f := newTestForwarder(t, Config{Upstreams: []string{up.addr}}, nil)
	req := question("www.example.org.", dns.TypeA)
	resp, err := f.Forward(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if answerIP(resp) != "192.0.2.1" || resp.Id != req.Id {
		t.Errorf("answer %v", resp)
	}
	if up.udpCount.Load() != 1 || up.tcpCount.Load() != 0 {
		t.Errorf("upstream saw %d UDP, %d TCP queries", up.udpCount.Load(), up.tcpCount.Load())
	}
}

func TestTruncatedAnswerRetriedOverTCP(t *testing.T) {
	full := answerA("192.0.2.7")
	up := startUpstream(t, func(req *dns.Msg, tcp bool) *dns.Msg {
		if tcp {
			return full(req, tcp)
		}
		m := new(dns.Msg)
		m.SetReply(req)
		m.Truncated = true
		return m
	})
	f := newTestForwarder(t, Config{Upstreams: []string{up.addr}}, nil)
	resp, err := f.Forward(context.Background(), question("big.example.org.", dns.TypeA))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Truncated || answerIP(resp) != "192.0.2.7" {
		t.Errorf("answer %v", resp)
	}
	if up.udpCount.Load() != 1 || up.tcpCount.Load() != 1 {
		t.Errorf("upstream saw %d UDP, %d TCP queries", up.udpCount.Load(), up.tcpCount.Load())
	}
}

func TestDownUpstreamFallsOver(t *testing.T) {
	for _, tc := range []struct {
		name string
		dead func(t *testing.T) (addr string, revive func())
	}{
		{"connection refused", func(t *testing.T) (string, func()) { return deadAddr(t), nil }},
		{"no answer", func(t *testing.T) (string, func()) {
			up := startUpstream(t, answerA("192.0.2.66"))
			up.answering.Store(false)
			return up.addr, func() { up.answering.Store(true) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dead, revive := tc.dead(t)
			live := startUpstream(t, answerA("192.0.2.1"))
			checks := make(chan string, 100)
			f := newTestForwarder(t, Config{
				Upstreams: []string{dead, live.addr}, Policy: PolicySequential,
				Timeout: 200 * time.Millisecond, HealthInterval: 10 * time.Millisecond,
			}, checks)
			for i := range 3 {
				resp, err := f.Forward(context.Background(), question(fmt.Sprintf("q%d.example.org.", i), dns.TypeA))
				if err != nil || answerIP(resp) != "192.0.2.1" {
					t.Fatalf("query %d: %v, %v", i, resp, err)
				}
			}
			if got := live.udpCount.Load(); got != 3 {
				t.Errorf("live upstream got %d queries, want 3", got)
			}
			if u := f.upstreams[dead]; !u.down() {
				t.Errorf("%s not marked down", dead)
			}
			if revive == nil {
				return
			}
			revive()
			for c := range checks {
				if c == dead+" true" {
					break
				}
			}
			if f.upstreams[dead].down() {
				t.Errorf("%s still down after a good health check", dead)
			}
		})
	}
}

func TestAllUpstreamsDown(t *testing.T) {
	f := newTestForwarder(t, Config{Upstreams: []string{deadAddr(t), deadAddr(t)}, HealthInterval: time.Hour}, nil)
	if resp, err := f.Forward(context.Background(), question("www.example.org.", dns.TypeA)); err == nil {
		t.Fatalf("no error, answer %v", resp)
	}
}

func TestStubDomains(t *testing.T) {
	def := startUpstream(t, answerA("192.0.2.1"))
	corp := startUpstream(t, answerA("192.0.2.2"))
	deep := startUpstream(t, answerA("192.0.2.3"))
	f := newTestForwarder(t, Config{
		Upstreams:   []string{def.addr},
		StubDomains: map[string][]string{"corp.example": {corp.addr}, "Deep.Corp.Example.": {deep.addr}},
	}, nil)
	for _, tc := range []struct{ name, want string }{
		{"www.example.org.", "192.0.2.1"},
		{"corp.example.", "192.0.2.2"},
		{"host.CORP.example.", "192.0.2.2"},
		{"notcorp.example.", "192.0.2.1"},
		{"a.deep.corp.example.", "192.0.2.3"},
	} {
		resp, err := f.Forward(context.Background(), question(tc.name, dns.TypeA))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := answerIP(resp); got != tc.want {
			t.Errorf("%s: answered by %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestLiveUpdates(t *testing.T) {
	a := startUpstream(t, answerA("192.0.2.1"))
	b := startUpstream(t, answerA("192.0.2.2"))
	f := newTestForwarder(t, Config{Upstreams: []string{a.addr}}, nil)
	kept := f.upstreams[a.addr]
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				if _, err := f.Forward(ctx, question("www.example.org.", dns.TypeA)); err != nil && ctx.Err() == nil {
					t.Errorf("forward during update: %v", err)
				}
			}
		})
	}
	for i := range 20 {
		ups := []string{a.addr, b.addr}
		if i%2 == 1 {
			ups = []string{a.addr}
		}
		if err := f.SetUpstreams(ups); err != nil {
			t.Fatal(err)
		}
		if err := f.SetStubDomains(map[string][]string{"corp.example.": {b.addr}}); err != nil {
			t.Fatal(err)
		}
	}
	cancel()
	wg.Wait()
	if f.upstreams[a.addr] != kept {
		t.Error("a kept upstream lost its state")
	}
	if err := f.SetUpstreams([]string{b.addr}); err != nil {
		t.Fatal(err)
	}
	resp, err := f.Forward(context.Background(), question("www.example.org.", dns.TypeA))
	if err != nil || answerIP(resp) != "192.0.2.2" {
		t.Errorf("after update: %v, %v", resp, err)
	}
}

func TestForwardThroughCache(t *testing.T) {
	up := startUpstream(t, answerA("192.0.2.1"))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	c, err := cache.New(cache.Config{Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	if err != nil {
		t.Fatal(err)
	}
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newTestForwarder(t, Config{Upstreams: []string{up.addr}, Cache: c}, nil)
	ttl := func() uint32 {
		t.Helper()
		req := question("www.example.org.", dns.TypeA)
		resp, err := f.Forward(context.Background(), req)
		if err != nil || len(resp.Answer) != 1 || resp.Id != req.Id {
			t.Fatalf("answer %v, %v", resp, err)
		}
		return resp.Answer[0].Header().Ttl
	}
	for _, step := range []struct {
		advance   time.Duration
		ttl       uint32
		upstreams int64
	}{
		{0, 300, 1},
		{0, 300, 1},
		{100 * time.Second, 200, 1},
		{199 * time.Second, 1, 1},
		{time.Second, 300, 2}, // expired: asked again
	} {
		advance(step.advance)
		if got := ttl(); got != step.ttl || up.udpCount.Load() != step.upstreams {
			t.Errorf("after %v: TTL %d, %d upstream queries; want %d, %d", step.advance, got, up.udpCount.Load(), step.ttl, step.upstreams)
		}
	}
	if st := c.Stats(); st.SuccessHits != 3 || st.Misses != 2 {
		t.Errorf("cache stats %+v", st)
	}
}

func TestMetrics(t *testing.T) {
	up := startUpstream(t, answerA("192.0.2.1"))
	reg := prometheus.NewRegistry()
	f := newTestForwarder(t, Config{Upstreams: []string{up.addr}, Registry: reg}, nil)
	if _, err := f.Forward(context.Background(), question("www.example.org.", dns.TypeA)); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range families {
		names = append(names, mf.GetName())
	}
	if !slices.Contains(names, "coredns_proxy_request_duration_seconds") {
		t.Errorf("metrics %v", names)
	}
}

func TestParseServers(t *testing.T) {
	many := make([]string, 16)
	for i := range many {
		many[i] = fmt.Sprintf("192.0.2.%d", i)
	}
	for _, tc := range []struct {
		in      []string
		want    []string
		wantErr bool
	}{
		{in: []string{"192.0.2.1", "192.0.2.2:5353", "2001:db8::1", "[2001:db8::2]:54"},
			want: []string{"192.0.2.1:53", "192.0.2.2:5353", "[2001:db8::1]:53", "[2001:db8::2]:54"}},
		{in: []string{"192.0.2.1", "192.0.2.1:53"}, want: []string{"192.0.2.1:53"}},
		{in: []string{"dns.example.org"}, wantErr: true},
		{in: []string{"192.0.2.1:0"}, wantErr: true},
		{in: []string{"192.0.2.1:99999"}, wantErr: true},
		{in: many, wantErr: true},
	} {
		got, err := parseServers(tc.in)
		if (err != nil) != tc.wantErr || !slices.Equal(got, tc.want) {
			t.Errorf("parseServers(%q) = %q, %v", tc.in, got, err)
		}
	}
}

func TestResolvConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	conf := "search example.org\nnameserver 192.0.2.53\nnameserver 2001:db8::53\noptions ndots:5\n"
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	f := newTestForwarder(t, Config{ResolvConf: path}, nil)
	var got []string
	for _, u := range f.table.Load().defaults {
		got = append(got, u.addr)
	}
	if want := []string{"192.0.2.53:53", "[2001:db8::53]:53"}; !slices.Equal(got, want) {
		t.Errorf("upstreams %q, want %q", got, want)
	}
	if _, err := New(Config{ResolvConf: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("no error for a missing resolv.conf")
	}
}

func TestBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"policy":      {Upstreams: []string{"192.0.2.1"}, Policy: "round_robin"},
		"upstream":    {Upstreams: []string{"not-an-ip"}},
		"stub domain": {Upstreams: []string{"192.0.2.1"}, StubDomains: map[string][]string{"corp..example": {"192.0.2.2"}}},
		"stub server": {Upstreams: []string{"192.0.2.1"}, StubDomains: map[string][]string{"corp.example": {"ns.corp.example"}}},
		"empty stub":  {Upstreams: []string{"192.0.2.1"}, StubDomains: map[string][]string{"corp.example": {}}},
	} {
		if f, err := New(cfg); err == nil {
			f.Close()
			t.Errorf("%s: no error", name)
		}
	}
}
