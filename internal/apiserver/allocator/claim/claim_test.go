package claim

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"sync"
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
)

// step is one call on one server's allocators, for Service holder.
type step struct {
	on, holder string // server "a" or "b"; Service name in default
	op, arg    string
	want       string // "ok", the value got, or the error text
}

func (s step) run(ctx context.Context, servers map[string]*Claims) string {
	a := servers[s.on].For(ctx, Holder("default", s.holder))
	ips, ports := a.IPs[v1.IPv4Protocol], a.NodePorts
	port, _ := strconv.Atoi(s.arg)
	switch s.op {
	case "ip":
		return text(ips.Allocate(netip.MustParseAddr(s.arg)))
	case "port":
		return text(ports.Allocate(port))
	case "release-ip":
		return text(ips.Release(netip.MustParseAddr(s.arg)))
	case "release-port":
		return text(ports.Release(port))
	case "dry-ip":
		return text(ips.DryRun().Allocate(netip.MustParseAddr(s.arg)))
	case "next-ip":
		v, err := ips.AllocateNext()
		return valueOr(v.String(), err)
	case "next-port":
		v, err := ports.AllocateNext()
		return valueOr(strconv.Itoa(v), err)
	}
	return "unknown op " + s.op
}

func text(err error) string { return valueOr("ok", err) }

func valueOr(v string, err error) string {
	if err != nil {
		return err.Error()
	}
	return v
}

func TestTwoServers(t *testing.T) {
	const taken, portTaken = "provided IP is already allocated", "provided port is already allocated"
	tests := []struct {
		name   string
		steps  []step
		claims string
	}{
		{"requested IP held by the other server", []step{
			{"a", "x", "ip", "10.0.0.2", "ok"},
			{"b", "y", "ip", "10.0.0.2", taken},
		}, "ips/ipv4/10.0.0.2=services/default/x"},
		{"requested port held by the other server", []step{
			{"a", "x", "port", "30005", "ok"},
			{"b", "y", "port", "30005", portTaken},
		}, "nodeports/30005=services/default/x"},
		{"release frees for the other server", []step{
			{"a", "x", "ip", "10.0.0.2", "ok"},
			{"a", "x", "release-ip", "10.0.0.2", "ok"},
			{"b", "y", "ip", "10.0.0.2", "ok"},
			{"a", "x", "port", "30005", "ok"},
			{"a", "x", "release-port", "30005", "ok"},
			{"b", "y", "port", "30005", "ok"},
		}, "ips/ipv4/10.0.0.2=services/default/y nodeports/30005=services/default/y"},
		{"a release by another holder keeps the claim", []step{
			{"a", "x", "ip", "10.0.0.2", "ok"},
			{"b", "y", "release-ip", "10.0.0.2", "ok"},
			{"b", "y", "ip", "10.0.0.2", taken},
		}, "ips/ipv4/10.0.0.2=services/default/x"},
		{"the same holder does not take over its own claim", []step{
			{"a", "x", "ip", "10.0.0.2", "ok"},
			{"b", "x", "ip", "10.0.0.2", taken},
		}, "ips/ipv4/10.0.0.2=services/default/x"},
		{"next skips what the other server holds", []step{
			{"a", "x", "ip", "10.0.0.1", "ok"},
			{"a", "x", "ip", "10.0.0.2", "ok"},
			{"a", "x", "ip", "10.0.0.3", "ok"},
			{"a", "x", "ip", "10.0.0.4", "ok"},
			{"a", "x", "ip", "10.0.0.5", "ok"},
			{"b", "y", "next-ip", "", "10.0.0.6"},
			{"a", "x", "next-ip", "", "range is full"},
			{"b", "y", "next-ip", "", "range is full"},
		}, "ips/ipv4/10.0.0.1=services/default/x ips/ipv4/10.0.0.2=services/default/x ips/ipv4/10.0.0.3=services/default/x " +
			"ips/ipv4/10.0.0.4=services/default/x ips/ipv4/10.0.0.5=services/default/x ips/ipv4/10.0.0.6=services/default/y"},
		{"values outside the range claim nothing", []step{
			{"a", "x", "ip", "10.0.1.1", "the provided IP (10.0.1.1) is not in the valid range. The range of valid IPs is 10.0.0.0/29"},
			{"a", "x", "port", "29999", "provided port is not in the valid range. The range of valid ports is 30000-30009"},
			{"a", "x", "release-port", "29999", "ok"},
		}, ""},
		{"a dry run claims nothing", []step{
			{"a", "x", "dry-ip", "10.0.0.2", "ok"},
			{"b", "y", "ip", "10.0.0.2", "ok"},
			{"a", "x", "dry-ip", "10.0.0.2", "ok"}, // a has not seen b's claim: no watch runs
		}, "ips/ipv4/10.0.0.2=services/default/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := newStore(t)
			servers := map[string]*Claims{
				"a": server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{}),
				"b": server(t, store, "b", "10.0.0.0/29", "30000-30009", Config{}),
			}
			for i, s := range tt.steps {
				if got := s.run(t.Context(), servers); got != s.want {
					t.Errorf("step %d %+v: got %q", i, s, got)
				}
			}
			if got := claimed(t, store); got != tt.claims {
				t.Errorf("claims:\n got %s\nwant %s", got, tt.claims)
			}
		})
	}
}

func TestLostClaimIsTypedError(t *testing.T) {
	store := newStore(t)
	a := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{})
	b := server(t, store, "b", "10.0.0.0/29", "30000-30009", Config{})
	_ = a.For(t.Context(), "x").NodePorts.Allocate(30001)
	err := b.For(t.Context(), "y").NodePorts.Allocate(30001)
	if !errors.Is(err, allocator.ErrPortAllocated) || !allocator.IsAllocated(err) {
		t.Errorf("lost claim: %v", err)
	}
}

// TestConcurrentServersNeverShare has 10 writers on each of two servers
// take cluster IPs and node ports until the ranges are full: every value
// is handed out exactly once.
func TestConcurrentServersNeverShare(t *testing.T) {
	store := newStore(t)
	servers := []*Claims{
		server(t, store, "a", "10.0.0.0/26", "30000-30099", Config{}),
		server(t, store, "b", "10.0.0.0/26", "30000-30099", Config{}),
	}
	ctx, cancel := context.WithCancel(t.Context())
	var running sync.WaitGroup
	for _, s := range servers {
		if _, err := s.Start(ctx, listOf(nil)); err != nil {
			t.Fatal(err)
		}
		running.Go(func() { s.Run(ctx, listOf(nil)) })
	}
	defer func() { cancel(); running.Wait() }()
	var mu sync.Mutex
	got := map[string]string{}
	var writers sync.WaitGroup
	for i := range 20 {
		writers.Go(func() {
			holder := fmt.Sprintf("w%d", i)
			a := servers[i%2].For(ctx, holder)
			for _, v := range takeAll(t, a) {
				mu.Lock()
				if prev, dup := got[v]; dup {
					t.Errorf("%s handed out to %s and %s", v, prev, holder)
				}
				got[v] = holder
				mu.Unlock()
			}
		})
	}
	writers.Wait()
	if len(got) != 62+100 {
		t.Errorf("handed out %d values, want 62 addresses and 100 ports", len(got))
	}
}

// takeAll allocates from a until both its ranges are full.
func takeAll(t *testing.T, a *allocator.Allocators) []string {
	var out []string
	for ipsFull, portsFull := false, false; !ipsFull || !portsFull; {
		if !ipsFull {
			ip, err := a.IPs[v1.IPv4Protocol].AllocateNext()
			ipsFull = errors.Is(err, allocator.ErrFull)
			if err == nil {
				out = append(out, ip.String())
			} else if !ipsFull {
				t.Errorf("AllocateNext IP: %v", err)
				return out
			}
		}
		if !portsFull {
			p, err := a.NodePorts.AllocateNext()
			portsFull = errors.Is(err, allocator.ErrFull)
			if err == nil {
				out = append(out, strconv.Itoa(p))
			} else if !portsFull {
				t.Errorf("AllocateNext port: %v", err)
				return out
			}
		}
	}
	return out
}

func TestReleaseOutlivesCancelledRequest(t *testing.T) {
	store := newStore(t)
	a := server(t, store, "a", "10.0.0.0/29", "30000-30009", Config{})
	ctx, cancel := context.WithCancel(t.Context())
	ports := a.For(ctx, "x").NodePorts
	if err := ports.Allocate(30003); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := ports.Release(30003); err != nil {
		t.Fatalf("Release after cancel: %v", err)
	}
	if got := claimed(t, store); got != "" || ports.Has(30003) {
		t.Errorf("claims %q, local %v after release", got, ports.Has(30003))
	}
}
