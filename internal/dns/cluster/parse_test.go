package cluster

// parse_test.go: tables for the name parsers.

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	mdns "github.com/miekg/dns"
)

func TestParseRequest(t *testing.T) {
	const zone = "cluster.local."
	tests := []struct {
		name string
		want request
	}{
		{"cluster.local.", request{shape: shapeApex}},
		{"dns-version.cluster.local.", request{shape: shapeVersion}},
		{"svc.cluster.local.", request{shape: shapeRoot}},
		{"pod.cluster.local.", request{shape: shapeRoot}},
		{"demo.svc.cluster.local.", request{shape: shapeNamespace, namespace: "demo"}},
		{"web.demo.svc.cluster.local.", request{shape: shapeService, namespace: "demo", service: "web"}},
		{"db-0.db.demo.svc.cluster.local.", request{shape: shapeService, namespace: "demo", service: "db", endpoint: "db-0"}},
		{"_http._tcp.web.demo.svc.cluster.local.",
			request{shape: shapeService, namespace: "demo", service: "web", port: "http", protocol: "tcp"}},
		{"demo.pod.cluster.local.", request{shape: shapePodNamespace, namespace: "demo"}},
		{"10-1-0-1.demo.pod.cluster.local.", request{shape: shapePod, namespace: "demo", service: "10-1-0-1"}},
		// Invalid: NXDOMAIN.
		{"foo.cluster.local.", request{}},
		{"dns-version.svc.cluster.local.", request{shape: shapeNamespace, namespace: "dns-version"}},
		{"web.demo.cluster.local.", request{}},
		{"http._tcp.web.demo.svc.cluster.local.", request{}},
		{"_http.tcp.web.demo.svc.cluster.local.", request{}},
		{"_._tcp.web.demo.svc.cluster.local.", request{}},
		{"a._http._tcp.web.demo.svc.cluster.local.", request{}},
		{"x.10-1-0-1.demo.pod.cluster.local.", request{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseRequest(tt.name, zone)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(request{})); diff != "" {
				t.Errorf("parseRequest(%q) (-want +got):\n%s", tt.name, diff)
			}
		})
	}
}

func TestParseDashed(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" when invalid
	}{
		{"10-1-0-1", "10.1.0.1"},
		{"fd00--1", "fd00::1"},
		{"fd00-1-2-3-4-5-6-7", "fd00:1:2:3:4:5:6:7"},
		{"--ffff-a01-1", "10.1.0.1"}, // IPv4-mapped, unmapped
		{"10-1-0", ""},
		{"web", ""},
		{"010-1-0-1", ""},
	}
	for _, tt := range tests {
		got, ok := parseDashed(tt.in)
		if tt.want == "" {
			if ok {
				t.Errorf("parseDashed(%q) = %v, want invalid", tt.in, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tt.want) {
			t.Errorf("parseDashed(%q) = %v, %v; want %s", tt.in, got, ok, tt.want)
		}
	}
}

func TestParseReverse(t *testing.T) {
	rev := func(ip string) string {
		s, err := mdns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name string
		want string // "" when not a full reverse name
	}{
		{rev("10.96.0.20"), "10.96.0.20"},
		{rev("255.0.0.1"), "255.0.0.1"},
		{rev("fd00:96::30"), "fd00:96::30"},
		{rev("2001:db8::abcd:1"), "2001:db8::abcd:1"},
		{"96.10.in-addr.arpa.", ""},
		{"in-addr.arpa.", ""},
		{"1.2.3.4.5.in-addr.arpa.", ""},
		{"256.0.96.10.in-addr.arpa.", ""},
		{"01.0.96.10.in-addr.arpa.", ""},
		{"x.0.96.10.in-addr.arpa.", ""},
		{"0.d.f.ip6.arpa.", ""},
		{"10.in-addr.arpa.example.com.", ""},
	}
	for _, tt := range tests {
		got, ok := parseReverse(tt.name)
		if tt.want == "" {
			if ok {
				t.Errorf("parseReverse(%q) = %v, want not full", tt.name, got)
			}
			continue
		}
		if !ok || got != netip.MustParseAddr(tt.want) {
			t.Errorf("parseReverse(%q) = %v, %v; want %s", tt.name, got, ok, tt.want)
		}
	}
	if got, ok := parseReverse6(make([]string, 32)); ok {
		t.Errorf("parseReverse6(empty labels) = %v, want invalid", got)
	}
}

func TestReverseZone(t *testing.T) {
	tests := map[string]string{
		"4.3.2.1.in-addr.arpa.":  reverse4,
		"in-addr.arpa.":          reverse4,
		"1.0.ip6.arpa.":          reverse6,
		"xin-addr.arpa.":         "",
		"web.demo.svc.cluster.":  "",
		"in-addr.arpa.evil.com.": "",
	}
	for name, want := range tests {
		if got := reverseZone(name); got != want {
			t.Errorf("reverseZone(%q) = %q, want %q", name, got, want)
		}
	}
}
