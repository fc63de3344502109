package lbipam

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func TestParseRange(t *testing.T) {
	cases := []struct{ in, want string }{
		{"192.168.1.0/29", "192.168.1.1-192.168.1.6"},
		{"192.168.1.10-192.168.1.20", "192.168.1.10-192.168.1.20"},
		{"192.168.1.8/31", "192.168.1.8-192.168.1.9"},
		{"192.168.1.8/32", "192.168.1.8-192.168.1.8"},
		{"fd00::/126", "fd00::1-fd00::3"},
		{"10.0.0.5 - 10.0.0.9", "10.0.0.5-10.0.0.9"},
		{"10.0.0.9-10.0.0.5", "error"},
		{"10.0.0.1-fd00::1", "error"},
		{"nonsense", "error"},
	}
	for _, tc := range cases {
		r, err := ParseRange(tc.in)
		got := "error"
		if err == nil {
			got = r.First.String() + "-" + r.Last.String()
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestPool(t *testing.T) {
	r, _ := ParseRange("10.0.0.1-10.0.0.3")
	cases := []struct {
		name  string
		steps []string // "assign key [ip]", "release key"
		want  string
	}{
		{"lowest free", []string{"assign a", "assign b", "assign a"}, "10.0.0.1 10.0.0.2 10.0.0.1"},
		{"requested", []string{"assign a 10.0.0.3", "assign b"}, "10.0.0.3 10.0.0.1"},
		{"requested moves", []string{"assign a", "assign a 10.0.0.2", "assign b"}, "10.0.0.1 10.0.0.2 10.0.0.1"},
		{"requested taken", []string{"assign a", "assign b 10.0.0.1"}, "10.0.0.1 " + ErrInUse.Error()},
		{"out of range", []string{"assign a 10.0.0.9"}, ErrNotInRange.Error()},
		{"full then released", []string{"assign a", "assign b", "assign c", "assign d", "release b", "assign d"},
			"10.0.0.1 10.0.0.2 10.0.0.3 " + ErrFull.Error() + " 10.0.0.2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewPool(r)
			var got []string
			for _, step := range tc.steps {
				f := strings.Fields(step)
				if f[0] == "release" {
					p.Release(f[1])
					continue
				}
				var pref netip.Addr
				if len(f) == 3 {
					pref = netip.MustParseAddr(f[2])
				}
				a, err := p.Assign(f[1], pref)
				switch {
				case errors.Is(err, ErrFull), errors.Is(err, ErrInUse), errors.Is(err, ErrNotInRange):
					got = append(got, err.Error())
				case err != nil:
					t.Fatal(err)
				default:
					got = append(got, a.String())
				}
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("got %s\nwant %s", g, tc.want)
			}
		})
	}
}
