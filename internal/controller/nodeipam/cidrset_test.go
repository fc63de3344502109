package nodeipam

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestCIDRSet(t *testing.T) {
	cases := []struct {
		name    string
		cluster string
		bits    int
		steps   []string // "alloc", "occupy X", "release X"
		want    string   // allocations, space separated
	}{
		{"first three", "10.244.0.0/16", 24, []string{"alloc", "alloc", "alloc"}, "10.244.0.0/24 10.244.1.0/24 10.244.2.0/24"},
		{"skips occupied", "10.244.0.0/16", 24, []string{"occupy 10.244.0.0/24", "occupy 10.244.2.0/24", "alloc", "alloc"}, "10.244.1.0/24 10.244.3.0/24"},
		{"released not reused first", "10.0.0.0/23", 24, []string{"alloc", "release 10.0.0.0/24", "alloc", "alloc"}, "10.0.0.0/24 10.0.1.0/24 10.0.0.0/24"},
		{"full", "10.0.0.0/23", 24, []string{"alloc", "alloc", "alloc"}, "10.0.0.0/24 10.0.1.0/24 full"},
		{"occupy wider range", "10.0.0.0/22", 24, []string{"occupy 10.0.0.0/23", "alloc"}, "10.0.2.0/24"},
		{"ipv6", "fd00:10:244::/56", 64, []string{"alloc", "alloc"}, "fd00:10:244::/64 fd00:10:244:1::/64"},
		{"unaligned base", "10.244.7.9/16", 24, []string{"alloc"}, "10.244.0.0/24"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewCIDRSet(netip.MustParsePrefix(tc.cluster), tc.bits)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, step := range tc.steps {
				verb, arg, _ := strings.Cut(step, " ")
				switch verb {
				case "alloc":
					p, err := s.Allocate()
					if errors.Is(err, ErrFull) {
						got = append(got, "full")
						continue
					}
					got = append(got, p.String())
				case "occupy":
					err = s.Occupy(netip.MustParsePrefix(arg))
				case "release":
					err = s.Release(netip.MustParsePrefix(arg))
				}
				if err != nil {
					t.Fatalf("%s: %v", step, err)
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s, want %s", g, tc.want)
			}
		})
	}
}

func TestCIDRSetErrors(t *testing.T) {
	if _, err := NewCIDRSet(netip.MustParsePrefix("10.0.0.0/8"), 28); err == nil {
		t.Error("too many subnets accepted")
	}
	if _, err := NewCIDRSet(netip.MustParsePrefix("10.0.0.0/24"), 16); err == nil {
		t.Error("node mask shorter than cluster accepted")
	}
	s, _ := NewCIDRSet(netip.MustParsePrefix("10.244.0.0/16"), 24)
	if err := s.Occupy(netip.MustParsePrefix("10.245.0.0/24")); err == nil {
		t.Error("outside CIDR occupied")
	}
	if s.Free() != 256 {
		t.Errorf("free %d", s.Free())
	}
}
