package netns

import (
	"errors"
	"net/netip"
	"testing"
)

func TestIPAM(t *testing.T) {
	tests := []struct {
		name   string
		cidr   string
		owners []string
		want   []string // address per owner, "" for exhausted
	}{
		{"first addresses after the gateway", "10.244.1.0/24", []string{"a", "b"}, []string{"10.244.1.2", "10.244.1.3"}},
		{"same owner same address", "10.244.1.0/24", []string{"a", "a"}, []string{"10.244.1.2", "10.244.1.2"}},
		{"a /30 has one pod address", "10.244.1.0/30", []string{"a", "b"}, []string{"10.244.1.2", ""}},
		{"unmasked CIDR is masked", "10.244.1.7/29", []string{"a"}, []string{"10.244.1.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewIPAM(IPAMConfig{CIDR: netip.MustParsePrefix(tt.cidr)})
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range tt.owners {
				got, err := a.Allocate(o)
				if tt.want[i] == "" {
					if !errors.Is(err, ErrExhausted) {
						t.Fatalf("owner %s: got %v, %v; want exhausted", o, got, err)
					}
					continue
				}
				if err != nil || got.String() != tt.want[i] {
					t.Fatalf("owner %s: got %v, %v; want %s", o, got, err, tt.want[i])
				}
			}
		})
	}
}

func TestIPAMPersistsAndDoesNotReuseAtOnce(t *testing.T) {
	dir := t.TempDir()
	cidr := netip.MustParsePrefix("10.244.3.0/24")
	a, err := NewIPAM(IPAMConfig{CIDR: cidr, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ipA, _ := a.Allocate("a")
	ipB, _ := a.Allocate("b")
	if err := a.Release("a"); err != nil {
		t.Fatal(err)
	}
	ipC, _ := a.Allocate("c")
	if ipC == ipA {
		t.Fatalf("released %s reused at once", ipA)
	}
	b, err := NewIPAM(IPAMConfig{CIDR: cidr, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := b.Lookup("b"); !ok || got != ipB {
		t.Fatalf("after reload b has %v %v, want %v", got, ok, ipB)
	}
	if _, ok := b.Lookup("a"); ok {
		t.Fatal("released a came back")
	}
	if got := b.Gateway().String(); got != "10.244.3.1/24" {
		t.Fatalf("gateway %s", got)
	}
}

func TestIPAMRejectsIPv6AndTinyPrefixes(t *testing.T) {
	for _, c := range []string{"fd00::/64", "10.0.0.0/31"} {
		if _, err := NewIPAM(IPAMConfig{CIDR: netip.MustParsePrefix(c)}); err == nil {
			t.Errorf("%s accepted", c)
		}
	}
}
