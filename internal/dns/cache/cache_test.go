package cache

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func query(name string, qtype uint16, do bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if do {
		m.SetEdns0(1232, true)
	}
	return m
}

func rr(s string) dns.RR {
	r, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return r
}

// reply builds an upstream answer to req with rcode and sections.
func reply(req *dns.Msg, rcode int, answer, ns []dns.RR) *dns.Msg {
	m := new(dns.Msg)
	m.SetRcode(req, rcode)
	m.RecursionAvailable = true
	m.Answer, m.Ns = answer, ns
	return m
}

const soa = "example.org. 600 IN SOA ns.example.org. admin.example.org. 1 7200 3600 1209600 60"

func newTestCache(t *testing.T, cfg Config) (*Cache, *clock) {
	t.Helper()
	clk := newClock()
	cfg.Now = clk.Now
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, clk
}

func TestTTLs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		resp    func(req *dns.Msg) *dns.Msg
		wantTTL uint32 // TTL of the first served (miss) answer; 0: not cached
		rcode   int
	}{
		{"answer", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 300 IN A 192.0.2.1")}, nil)
		}, 300, dns.RcodeSuccess},
		{"answer capped at 3600 s", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 86400 IN A 192.0.2.1")}, nil)
		}, 3600, dns.RcodeSuccess},
		{"answer raised to 5 s", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 0 IN A 192.0.2.1")}, nil)
		}, 5, dns.RcodeSuccess},
		{"lowest TTL of the chain", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeSuccess, []dns.RR{
				rr("a.example.org. 300 IN CNAME b.example.org."), rr("b.example.org. 30 IN A 192.0.2.1")}, nil)
		}, 30, dns.RcodeSuccess},
		{"nxdomain: SOA minimum", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeNameError, nil, []dns.RR{rr(soa)})
		}, 60, dns.RcodeNameError},
		{"nxdomain capped at 1800 s", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeNameError, nil, []dns.RR{rr("example.org. 86400 IN SOA ns. admin. 1 2 3 4 86400")})
		}, 1800, dns.RcodeNameError},
		{"nodata", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeSuccess, nil, []dns.RR{rr(soa)})
		}, 60, dns.RcodeSuccess},
		{"empty noerror without SOA", func(q *dns.Msg) *dns.Msg {
			return reply(q, dns.RcodeSuccess, nil, nil)
		}, 5, dns.RcodeSuccess},
		{"servfail: 5 s", func(q *dns.Msg) *dns.Msg { return reply(q, dns.RcodeServerFailure, nil, nil) }, 5, dns.RcodeServerFailure},
		{"nxdomain without SOA: not cached", func(q *dns.Msg) *dns.Msg { return reply(q, dns.RcodeNameError, nil, nil) }, 0, 0},
		{"refused: not cached", func(q *dns.Msg) *dns.Msg { return reply(q, dns.RcodeRefused, nil, nil) }, 0, 0},
		{"truncated: not cached", func(q *dns.Msg) *dns.Msg {
			m := reply(q, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 300 IN A 192.0.2.1")}, nil)
			m.Truncated = true
			return m
		}, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clk := newTestCache(t, Config{})
			req := query("a.example.org.", dns.TypeA, false)
			resp := tc.resp(req)
			c.Set(req, resp)
			again := query("A.Example.ORG.", dns.TypeA, false)
			got := c.Get(again)
			if tc.wantTTL == 0 {
				if got != nil {
					t.Fatalf("cached: %v", got)
				}
				return
			}
			if got == nil {
				t.Fatal("not cached")
			}
			if got.Id != again.Id || got.Question[0] != again.Question[0] || got.Rcode != tc.rcode {
				t.Fatalf("reply header %v, question %v, want id %d, question %v", got.MsgHdr, got.Question, again.Id, again.Question)
			}
			for _, r := range append(append([]dns.RR{}, resp.Answer...), resp.Ns...) {
				if r.Header().Ttl != tc.wantTTL {
					t.Errorf("first answer: TTL %d, want %d: %v", r.Header().Ttl, tc.wantTTL, r)
				}
			}
			clk.Advance(2 * time.Second)
			for _, r := range append(append([]dns.RR{}, c.Get(again).Answer...), c.Get(again).Ns...) {
				if r.Header().Ttl != tc.wantTTL-2 {
					t.Errorf("after 2 s: TTL %d, want %d", r.Header().Ttl, tc.wantTTL-2)
				}
			}
			clk.Advance(time.Duration(tc.wantTTL-2) * time.Second)
			if got := c.Get(again); got != nil {
				t.Errorf("served after expiry: %v", got)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	req := query("a.example.org.", dns.TypeA, false)
	c.Set(req, reply(req, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 300 IN A 192.0.2.1")}, nil))
	for _, tc := range []struct {
		name string
		req  *dns.Msg
		hit  bool
	}{
		{"same", query("a.example.org.", dns.TypeA, false), true},
		{"other case", query("A.EXAMPLE.org.", dns.TypeA, false), true},
		{"DO bit", query("a.example.org.", dns.TypeA, true), false},
		{"other type", query("a.example.org.", dns.TypeAAAA, false), false},
		{"other name", query("b.example.org.", dns.TypeA, false), false},
		{"CD bit", func() *dns.Msg { m := query("a.example.org.", dns.TypeA, false); m.CheckingDisabled = true; return m }(), false},
		{"other class", func() *dns.Msg {
			m := query("a.example.org.", dns.TypeA, false)
			m.Question[0].Qclass = dns.ClassCHAOS
			return m
		}(), false},
	} {
		if got := c.Get(tc.req) != nil; got != tc.hit {
			t.Errorf("%s: hit %v, want %v", tc.name, got, tc.hit)
		}
	}
}

func TestDenialReplacesSuccess(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	req := query("a.example.org.", dns.TypeA, false)
	c.Set(req, reply(req, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 300 IN A 192.0.2.1")}, nil))
	c.Set(req, reply(req, dns.RcodeNameError, nil, []dns.RR{rr(soa)}))
	if got := c.Get(req); got == nil || got.Rcode != dns.RcodeNameError {
		t.Fatalf("got %v, want NXDOMAIN", got)
	}
	if pos, neg := c.Len(); pos != 0 || neg != 1 {
		t.Errorf("Len() = %d, %d; want 0, 1", pos, neg)
	}
}

func TestMismatchedAnswerDropped(t *testing.T) {
	c, _ := newTestCache(t, Config{})
	req := query("a.example.org.", dns.TypeA, false)
	other := query("b.example.org.", dns.TypeA, false)
	c.Set(req, reply(other, dns.RcodeSuccess, []dns.RR{rr("b.example.org. 300 IN A 192.0.2.1")}, nil))
	if c.Get(req) != nil || c.Stats().Drops != 1 {
		t.Errorf("mismatched answer cached, stats %+v", c.Stats())
	}
}

func TestEviction(t *testing.T) {
	c, _ := newTestCache(t, Config{Capacity: 3})
	for i := range 5 {
		req := query(fmt.Sprintf("h%d.example.org.", i), dns.TypeA, false)
		c.Set(req, reply(req, dns.RcodeSuccess, []dns.RR{rr(req.Question[0].Name + " 300 IN A 192.0.2.1")}, nil))
	}
	if pos, _ := c.Len(); pos != 3 {
		t.Errorf("success entries = %d, want 3", pos)
	}
	if ev := c.Stats().SuccessEvictions; ev != 2 {
		t.Errorf("evictions = %d, want 2", ev)
	}
}

func TestDefaultCapacity(t *testing.T) {
	s := newStore(DefaultCapacity)
	if n, size := len(s.shards), s.shards[0].size; n*size != 9984 {
		t.Errorf("%d shards of %d", n, size)
	}
}

func TestStatsAndMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c, _ := newTestCache(t, Config{Registry: reg})
	req := query("a.example.org.", dns.TypeA, false)
	if c.Peek(req) != nil { // a miss Peek does not count
		t.Fatal("Peek hit an empty cache")
	}
	c.Get(req) // miss
	c.Set(req, reply(req, dns.RcodeSuccess, []dns.RR{rr("a.example.org. 300 IN A 192.0.2.1")}, nil))
	c.Get(req) // hit
	if st := c.Stats(); st.Requests != 2 || st.SuccessHits != 1 || st.Misses != 1 {
		t.Errorf("stats %+v", st)
	}
	if c.Peek(req) == nil { // a hit Peek counts
		t.Fatal("Peek missed a cached answer")
	}
	if st := c.Stats(); st.Requests != 3 || st.SuccessHits != 2 || st.Misses != 1 {
		t.Errorf("stats %+v", st)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	values := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			for _, l := range m.GetLabel() {
				if l.GetName() == "type" && l.GetValue() != "success" {
					v = 0
				}
			}
			values[f.GetName()] += v
		}
	}
	want := map[string]float64{
		"coredns_cache_requests_total": 3, "coredns_cache_hits_total": 2, "coredns_cache_misses_total": 1,
		"coredns_cache_entries": 1, "coredns_cache_evictions_total": 0, "coredns_cache_drops_total": 0,
	}
	for name, v := range want {
		if got, ok := values[name]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	c, clk := newTestCache(t, Config{Capacity: 64})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				req := query(fmt.Sprintf("h%d.example.org.", (g*7+i)%100), dns.TypeA, false)
				if c.Get(req) == nil {
					c.Set(req, reply(req, dns.RcodeSuccess, []dns.RR{rr(req.Question[0].Name + " 30 IN A 192.0.2.1")}, nil))
				}
				if i%50 == 0 {
					clk.Advance(10 * time.Second)
				}
			}
		})
	}
	wg.Wait()
	if pos, _ := c.Len(); pos > 64 {
		t.Errorf("%d entries over capacity 64", pos)
	}
}
