package ipvs

import (
	"context"
	"log/slog"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// configuredBackend is a backend of cfg over a fake kernel whose sysctls
// are recorded in sysctls.
func configuredBackend(t *testing.T, cfg Config, sysctls map[string]string) testBackend {
	t.Helper()
	fake := NewFake(netip.MustParseAddr(proxytest.NodeIP))
	ipt := iptablestest.NewFake()
	k := FakeKernel(fake, ipt)
	k.Sysctl = func(name, value string) error { sysctls[name] = value; return nil }
	cfg.Kernel, cfg.Logger = &k, slog.New(slog.DiscardHandler)
	b, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return testBackend{Backend: b, fake: fake, ipt: ipt}
}

func TestTimeouts(t *testing.T) {
	defaults := Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}
	for _, tc := range []struct {
		name      string
		set, want Timeouts
	}{
		{"unset leaves the kernel's", Timeouts{}, defaults},
		{"all three", Timeouts{TCP: time.Hour, TCPFin: 30 * time.Second, UDP: 10 * time.Second}, Timeouts{TCP: time.Hour, TCPFin: 30 * time.Second, UDP: 10 * time.Second}},
		{"tcp only", Timeouts{TCP: 1000 * time.Second}, Timeouts{TCP: 1000 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second}},
		{"whole seconds", Timeouts{UDP: 1500 * time.Millisecond}, Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := configuredBackend(t, Config{Timeouts: tc.set}, map[string]string{})
			tb.sync(t, proxytest.OverallState())
			got, _ := tb.fake.Timeouts()
			if got != tc.want {
				t.Errorf("kernel timeouts %+v, want %+v", got, tc.want)
			}
			// Set once: the next full sync finds them in place.
			ops := tb.fake.Ops
			tb.sync(t, proxytest.OverallState())
			if tb.fake.Ops != ops {
				t.Errorf("a second full sync changed the kernel (%d operations)", tb.fake.Ops-ops)
			}
		})
	}
}

func TestTimeoutsRepaired(t *testing.T) {
	tb := configuredBackend(t, Config{Timeouts: Timeouts{TCP: time.Hour}}, map[string]string{})
	tb.sync(t, proxytest.OverallState())
	_ = tb.fake.SetTimeouts(Timeouts{TCP: time.Minute})
	tb.sync(t, proxytest.OverallState())
	if got, _ := tb.fake.Timeouts(); got.TCP != time.Hour {
		t.Errorf("tcp timeout %s after a full sync, want 1h", got.TCP)
	}
}

func TestStrictARP(t *testing.T) {
	for _, strict := range []bool{false, true} {
		sysctls := map[string]string{}
		tb := configuredBackend(t, Config{StrictARP: strict}, sysctls)
		tb.sync(t, proxytest.OverallState())
		want := map[string]string{
			"net/ipv4/vs/conntrack": "1", "net/ipv4/vs/expire_nodest_conn": "1",
			"net/ipv4/vs/expire_quiescent_template": "1", "net/ipv4/ip_forward": "1",
		}
		if strict {
			want["net/ipv4/conf/all/arp_ignore"] = "1"
			want["net/ipv4/conf/all/arp_announce"] = "2"
		}
		if d := cmp.Diff(want, sysctls); d != "" {
			t.Errorf("strictARP %v: sysctls (-want +got):\n%s", strict, d)
		}
	}
}

func TestExcludeCIDRs(t *testing.T) {
	tb := configuredBackend(t, Config{ExcludeCIDRs: []string{"172.30.0.41/32", "10.99.0.0/16"}}, map[string]string{})
	st := proxytest.OverallState()
	tb.sync(t, st)
	// Virtual services the mode would remove: on kube-ipvs0's addresses
	// but no Service's, one inside excludeCIDRs and one outside.
	kept := Service{Protocol: "TCP", Address: netip.MustParseAddr("10.99.1.1"), Port: 80, Scheduler: "rr"}
	removed := Service{Protocol: "TCP", Address: netip.MustParseAddr("10.98.1.1"), Port: 80, Scheduler: "rr"}
	for _, s := range []Service{kept, removed} {
		if err := tb.fake.AddService(s); err != nil {
			t.Fatal(err)
		}
		_ = tb.fake.AddDestination(s, Destination{Address: netip.MustParseAddr("192.0.2.1"), Port: 80, Weight: 1})
		_ = tb.fake.AddAddr(DummyDevice, s.Address)
	}
	tb.sync(t, st)
	got := map[string]bool{}
	svcs, _ := tb.fake.Services()
	for _, s := range svcs {
		got[s.Key()] = true
	}
	if !got[kept.Key()] || got[removed.Key()] {
		t.Errorf("after a full sync: %s kept %v (want true), %s kept %v (want false)", kept.Key(), got[kept.Key()], removed.Key(), got[removed.Key()])
	}
	if ds, _ := tb.fake.Destinations(kept); len(ds) != 1 {
		t.Errorf("real servers of the excluded virtual service: %v, want the one it had", ds)
	}
	// A Service of the mode inside excludeCIDRs (172.30.0.41 is in the
	// fixtures) is programmed as usual, and stays when its Service goes,
	// as kube-proxy leaves it.
	vip := "TCP/172.30.0.41:80"
	if !got[vip] {
		t.Fatalf("%s not programmed: %v", vip, got)
	}
	tb.sync(t, proxytest.State(nil, nil))
	svcs, _ = tb.fake.Services()
	var left []string
	for _, s := range svcs {
		left = append(left, s.Key())
	}
	if strings.Join(left, " ") != "TCP/10.99.1.1:80 "+vip {
		t.Errorf("virtual services left once every Service is gone: %v, want the two in excludeCIDRs", left)
	}
}

func TestBadSettings(t *testing.T) {
	k := FakeKernel(NewFake(), iptablestest.NewFake())
	for _, cfg := range []Config{
		{ExcludeCIDRs: []string{"10.0.0.0/8", "not-a-cidr"}},
		{Timeouts: Timeouts{UDP: -time.Second}},
	} {
		cfg.Kernel = &k
		if _, err := New(context.Background(), cfg); err == nil {
			t.Errorf("New(%+v) did not fail", cfg)
		} else {
			t.Logf("%v", err)
		}
	}
}
