package tracer

import (
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// testListing is a small table as `nft list table` prints it: services
// picked at random, round robin and by source hash, a sticky map that is
// dynamic, a firewall with source ranges, hairpin and mark masquerading,
// and filter chains on forward and input.
const testListing = `table ip test { # handle 7
	set pods {
		type ipv4_addr
		flags interval
		elements = { 10.0.0.0/8, 192.168.7.10-192.168.7.20 }
	}

	set guarded {
		type ipv4_addr . inet_proto . inet_service
		elements = { 5.5.5.5 . tcp . 80 }
	}

	set allowed {
		type ipv4_addr . inet_proto . inet_service . ipv4_addr
		flags interval
		elements = { 5.5.5.5 . tcp . 80 . 203.0.113.0/25 }
	}

	set hairpin {
		type ipv4_addr . ipv4_addr
		elements = { 10.1.0.1 . 10.1.0.1 }
	}

	map services {
		type ipv4_addr . inet_proto . inet_service : verdict
		elements = { 172.16.0.1 . tcp . 80 : goto random-2,
			     172.16.0.2 . tcp . 80 : goto rr-3,
			     172.16.0.3 . udp . 53 : goto sh-2,
			     172.16.0.4 . tcp . 80 : goto reject-chain,
			     172.16.0.5 . tcp . 80 : drop,
			     172.16.0.6 . tcp . 80 : goto fixed,
			     172.16.0.7 . tcp . 80 : goto anonymous,
			     5.5.5.5 . tcp . 80 : goto external,
			     192.168.0.2 . tcp . 30080 : goto external }
	}

	map endpoints {
		typeof ip daddr . meta l4proto . th dport . numgen random mod 1 : ip daddr . th dport
		elements = { 172.16.0.1 . tcp . 80 . 0 : 10.1.0.1 . 8080,
			     172.16.0.1 . tcp . 80 . 1 : 10.1.0.2 . 8080,
			     172.16.0.2 . tcp . 80 . 0 : 10.1.0.3 . 80,
			     172.16.0.2 . tcp . 80 . 1 : 10.1.0.4 . 80,
			     172.16.0.2 . tcp . 80 . 2 : 10.1.0.5 . 80,
			     172.16.0.3 . udp . 53 . 0 : 10.1.0.6 . 5353,
			     172.16.0.3 . udp . 53 . 1 : 10.1.0.7 . 5353,
			     5.5.5.5 . tcp . 80 . 0 : 10.1.0.8 . 80,
			     192.168.0.2 . tcp . 30080 . 0 : 10.1.0.8 . 80 }
	}

	map sticky {
		type ipv4_addr . ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
		size 65535
		flags dynamic,timeout
		timeout 3h
		elements = { 10.0.0.9 . 172.16.0.1 . tcp . 80 timeout 3h expires 2h59m58s364ms : 10.1.0.2 . 8080 }
	}

	chain services { # handle 1
		ip daddr . meta l4proto . th dport vmap @services # handle 20
	}

	chain mark-for-masquerade {
		meta mark set meta mark | 0x00004000 counter packets 0 bytes 0
	}

	chain random-2 {
		ip saddr != @pods jump mark-for-masquerade
		dnat ip to ip saddr . ip daddr . meta l4proto . th dport map @sticky
		dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 2 map @endpoints
	}

	chain rr-3 {
		dnat ip to ip daddr . meta l4proto . th dport . numgen inc mod 3 map @endpoints
	}

	chain sh-2 {
		update @sticky { ip saddr . ct original ip daddr . meta l4proto . ct original proto-dst timeout 3h : ip daddr . udp dport }
		dnat ip to ip daddr . meta l4proto . th dport . jhash ip saddr mod 2 seed 0x0 map @endpoints
	}

	chain fixed {
		dnat to 10.1.0.9:9090 comment "one endpoint"
	}

	chain anonymous {
		numgen random mod 2 vmap { 0 : goto endpoint-a, 1 : goto endpoint-b }
	}

	chain endpoint-a {
		dnat to 10.1.0.10:80
	}

	chain endpoint-b {
		dnat ip to 10.1.0.11
	}

	chain external {
		jump mark-for-masquerade
		dnat ip to ip daddr . meta l4proto . th dport . numgen random mod 1 map @endpoints
	}

	chain reject-chain {
		reject
	}

	chain firewall {
		ip daddr . meta l4proto . th dport @guarded ip daddr . meta l4proto . th dport . ip saddr != @allowed drop
	}

	chain masquerading {
		ct status dnat ip saddr . ip daddr @hairpin masquerade fully-random
		meta mark & 0x00004000 == 0x00000000 return
		meta mark set meta mark ^ 0x00004000
		masquerade fully-random
	}

	chain filter-prerouting {
		type filter hook prerouting priority dstnat - 10; policy accept;
		ct state new jump firewall
	}

	chain nat-prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		jump services
	}

	chain nat-output {
		type nat hook output priority -100; policy accept;
		jump services
	}

	chain nat-postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		jump masquerading
	}

	chain filter-forward {
		type filter hook forward priority filter; policy accept;
		ip daddr 10.1.0.66 drop
		ip daddr { 10.1.0.67, 10.1.0.68 } th dport != 443 reject with icmp port-unreachable
		ip daddr 10.66.0.0/16 tcp dport 22 reject with icmp type port-unreachable
	}

	chain filter-input {
		type filter hook input priority filter + 10; policy accept;
		tcp dport 9999 drop
	}
}
`

func testNode() []netip.Addr { return []netip.Addr{netip.MustParseAddr("192.168.0.2")} }

func TestNFTablesTrace(t *testing.T) {
	tr, err := NewNFTables(testListing, testNode())
	if err != nil {
		t.Fatal(err)
	}
	ep := func(out string, masq bool) Result { return Result{Output: out, Masq: masq} }
	Run(t, tr, []Case{
		{Name: "pod to random service", Src: "10.0.0.2", Dst: "172.16.0.1", Port: 80, Want: ep("10.1.0.1:8080, 10.1.0.2:8080", false)},
		{Name: "dynamic sticky map is empty", Src: "10.0.0.9", Dst: "172.16.0.1", Port: 80, Want: ep("10.1.0.1:8080, 10.1.0.2:8080", false)},
		{Name: "source in a range of the set", Src: "192.168.7.15", Dst: "172.16.0.1", Port: 80, Want: ep("10.1.0.1:8080, 10.1.0.2:8080", false)},
		{Name: "outside source is marked", Src: "192.168.7.21", Dst: "172.16.0.1", Port: 80, Want: ep("10.1.0.1:8080, 10.1.0.2:8080", true)},
		{Name: "hairpin", Src: "10.1.0.1", Dst: "172.16.0.1", Port: 80, Want: ep("10.1.0.1:8080, 10.1.0.2:8080", true)},
		{Name: "loopback takes the output path", Src: "127.0.0.1", Dst: "172.16.0.1", Port: 80, Want: ep("10.1.0.1:8080, 10.1.0.2:8080", true)},
		{Name: "round robin", Src: "10.0.0.2", Dst: "172.16.0.2", Port: 80, Want: ep("10.1.0.3:80, 10.1.0.4:80, 10.1.0.5:80", false)},
		{Name: "source hash over UDP", Protocol: corev1.ProtocolUDP, Src: "10.0.0.2", Dst: "172.16.0.3", Port: 53, Want: ep("10.1.0.6:5353, 10.1.0.7:5353", false)},
		{Name: "TCP to a UDP service", Src: "10.0.0.2", Dst: "172.16.0.3", Port: 53, Want: ep(None, false)},
		{Name: "other port", Src: "10.0.0.2", Dst: "172.16.0.1", Port: 81, Want: ep(None, false)},
		{Name: "goto reject chain", Src: "10.0.0.2", Dst: "172.16.0.4", Port: 80, Want: ep(Reject, false)},
		{Name: "drop in a verdict map", Src: "10.0.0.2", Dst: "172.16.0.5", Port: 80, Want: ep(Drop, false)},
		{Name: "fixed dnat", Src: "10.0.0.2", Dst: "172.16.0.6", Port: 80, Want: ep("10.1.0.9:9090", false)},
		{Name: "allowed source range", Src: "203.0.113.5", Dst: "5.5.5.5", Port: 80, Want: ep("10.1.0.8:80", true)},
		{Name: "other source range", Src: "203.0.113.200", Dst: "5.5.5.5", Port: 80, Want: ep(Drop, false)},
		{Name: "node skips prerouting firewall", Src: "192.168.0.2", Dst: "5.5.5.5", Port: 80, Want: ep("10.1.0.8:80", true)},
		{Name: "node to its NodePort", Src: "192.168.0.2", Dst: "192.168.0.2", Port: 30080, Want: ep("10.1.0.8:80", true)},
		{Name: "pod to NodePort is forwarded", Src: "10.0.0.2", Dst: "192.168.0.2", Port: 30080, Want: ep("10.1.0.8:80", true)},
		{Name: "input drop", Src: "10.0.0.2", Dst: "192.168.0.2", Port: 9999, Want: ep(Drop, false)},
		{Name: "forward drop", Src: "10.0.0.2", Dst: "10.1.0.66", Port: 80, Want: ep(Drop, false)},
		{Name: "anonymous verdict map", Src: "10.0.0.2", Dst: "172.16.0.7", Port: 80, Want: ep("10.1.0.10:80, 10.1.0.11:80", false)},
		{Name: "anonymous set", Src: "10.0.0.2", Dst: "10.1.0.68", Port: 80, Want: ep(Reject, false)},
		{Name: "negated constant", Src: "10.0.0.2", Dst: "10.1.0.68", Port: 443, Want: ep(None, false)},
		{Name: "forward reject", Src: "10.0.0.2", Dst: "10.66.1.1", Port: 22, Want: ep(Reject, false)},
		{Name: "tcp dport needs TCP", Protocol: corev1.ProtocolUDP, Src: "10.0.0.2", Dst: "10.66.1.1", Port: 22, Want: ep(None, false)},
		{Name: "IPv6 packet in an ip table", Src: "fd00::2", Dst: "fd00::1", Port: 80, Want: ep(None, false)},
	})
}

// testDump6 is an ip6 table as knftables' Fake dumps it.
const testDump6 = `add table ip6 test6
add chain ip6 test6 mark-for-masquerade
add chain ip6 test6 masquerading
add chain ip6 test6 nat-postrouting { type nat hook postrouting priority 100 ; }
add chain ip6 test6 nat-prerouting { type nat hook prerouting priority -100 ; }
add chain ip6 test6 pick
add set ip6 test6 pods { type ipv6_addr ; flags interval ; }
add map ip6 test6 endpoints { typeof ip6 daddr . meta l4proto . th dport . numgen random mod 1 : ip6 daddr . th dport ; }
add map ip6 test6 services { type ipv6_addr . inet_proto . inet_service : verdict ; }
add rule ip6 test6 mark-for-masquerade meta mark set meta mark | 0x00004000
add rule ip6 test6 masquerading meta mark & 0x00004000 == 0 return
add rule ip6 test6 masquerading masquerade fully-random
add rule ip6 test6 nat-postrouting jump masquerading
add rule ip6 test6 nat-prerouting ip6 daddr . meta l4proto . th dport vmap @services
add rule ip6 test6 pick ip6 saddr != @pods jump mark-for-masquerade
add rule ip6 test6 pick dnat ip6 to ip6 daddr . meta l4proto . th dport . numgen random mod 2 map @endpoints comment "two"
add element ip6 test6 pods { fd00:10::/64 }
add element ip6 test6 endpoints { fd00::1 . tcp . 80 . 0 : fd00:10::1 . 8080 }
add element ip6 test6 endpoints { fd00::1 . tcp . 80 . 1 : fd00:10::2 . 8080 }
add element ip6 test6 services { fd00::1 . tcp . 80 : goto pick }
`

func TestNFTablesTraceIPv6Dump(t *testing.T) {
	tr, err := NewNFTablesFromDump(testDump6, []netip.Addr{netip.MustParseAddr("fd00::10")})
	if err != nil {
		t.Fatal(err)
	}
	ep := func(out string, masq bool) Result { return Result{Output: out, Masq: masq} }
	Run(t, tr, []Case{
		{Name: "pod to service", Src: "fd00:10::5", Dst: "fd00::1", Port: 80, Want: ep("[fd00:10::1]:8080, [fd00:10::2]:8080", false)},
		{Name: "outside to service", Src: "2001:db8::1", Dst: "fd00::1", Port: 80, Want: ep("[fd00:10::1]:8080, [fd00:10::2]:8080", true)},
		{Name: "other address", Src: "fd00:10::5", Dst: "fd00::2", Port: 80, Want: ep(None, false)},
		{Name: "IPv4 packet in an ip6 table", Src: "10.0.0.2", Dst: "10.0.0.1", Port: 80, Want: ep(None, false)},
	})
}

// chainListing is an ip table with a set, a verdict map and a data map,
// and chain c holding rules.
func chainListing(rules ...string) string {
	return `table ip t {
	set s {
		type ipv4_addr
	}
	map v {
		type ipv4_addr . inet_proto . inet_service : verdict
	}
	map d {
		type ipv4_addr : ipv4_addr . inet_service
	}
	chain c {
		` + strings.Join(rules, "\n\t\t") + `
	}
}
`
}

func TestNewNFTablesErrors(t *testing.T) {
	cases := []struct {
		name, listing string
	}{
		{"no table", ""},
		{"unterminated table", "table ip t {\n"},
		{"unknown statement", chainListing(`log prefix "x"`)},
		{"unknown expression", chainListing("ip dscp 1 drop")},
		{"unknown set", chainListing("ip saddr @nope drop")},
		{"unknown chain", chainListing("jump nowhere")},
		{"missing value", chainListing("ip saddr")},
		{"bad address", chainListing("ip saddr 10.0.0.300 drop")},
		{"vmap on a set", chainListing("ip saddr vmap @s")},
		{"map on a verdict map", chainListing("dnat to ip daddr . meta l4proto . th dport map @v")},
		{"concatenation too short", chainListing("ip daddr . th dport vmap @v")},
		{"field of another type", chainListing("ip daddr . th dport . meta l4proto vmap @v")},
		{"dnat to a protocol", chainListing("dnat to meta l4proto")},
		{"set something else", chainListing("ip daddr set 10.0.0.1")},
		{"unknown object", "table ip t {\n\tflowtable f {\n\t}\n}\n"},
		{"unknown set type", "table ip t {\n\tset s {\n\t\ttype ifname\n\t}\n}\n"},
		{"set without type", "table ip t {\n\tset s {\n\t}\n}\n"},
		{"element verdict to unknown chain", "table ip t {\n\tmap v {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 10.0.0.1 : goto x }\n\t}\n}\n"},
		{"element of wrong width", "table ip t {\n\tset s {\n\t\ttype ipv4_addr . inet_service\n\t\telements = { 10.0.0.1 }\n\t}\n}\n"},
		{"unsupported hook", "table ip t {\n\tchain c {\n\t\ttype filter hook ingress priority 0; policy accept;\n\t}\n}\n"},
		{"bad priority", "table ip t {\n\tchain c {\n\t\ttype filter hook input priority sideways; policy accept;\n\t}\n}\n"},
		{"two tables", "table ip a {\n}\ntable ip b {\n}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewNFTables(c.listing, nil); err == nil {
				t.Errorf("no error for:\n%s", c.listing)
			}
		})
	}
}

func TestNewNFTablesFromDumpErrors(t *testing.T) {
	cases := []struct {
		name, dump string
	}{
		{"not an add", "flush table ip t\n"},
		{"rule in undeclared chain", "add table ip t\nadd rule ip t c drop\n"},
		{"element of undeclared set", "add table ip t\nadd element ip t s { 10.0.0.1 }\n"},
		{"unsupported family", "add table bridge t\n"},
		{"set without braces", "add table ip t\nadd set ip t s type ipv4_addr\n"},
		{"unknown statement", "add table ip t\nadd chain ip t c\nadd rule ip t c meta nftrace set 1\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := NewNFTablesFromDump(c.dump, nil); err == nil {
				t.Errorf("no error for:\n%s", c.dump)
			}
		})
	}
}

func TestParsePriority(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"-110", -110},
		{"dstnat", -100},
		{"dstnat - 10", -110},
		{"srcnat", 100},
		{"filter + 5", 5},
		{"raw", -300},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := parsePriority(strings.Fields(c.in))
			if err != nil || got != c.want {
				t.Errorf("parsePriority(%q) = %d, %v; want %d", c.in, got, err, c.want)
			}
		})
	}
}

func TestNFTWords(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{`ct state established,related accept`, `ct|state|established,related|accept`},
		{`elements = { 1.2.3.4 . tcp . 80 : goto a, 5.6.7.8 . tcp . 80 : drop }`, `elements|=|{|1.2.3.4|.|tcp|.|80|:|goto|a|,|5.6.7.8|.|tcp|.|80|:|drop|}`},
		{`drop comment "a b, c" # handle 4`, `drop|comment|"a b, c"`},
		{`type nat hook output priority -100; policy accept;`, `type|nat|hook|output|priority|-100|;|policy|accept|;`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := nftWords(c.in)
			if err != nil || strings.Join(got, "|") != c.want {
				t.Errorf("nftWords(%q) = %q, %v; want %q", c.in, strings.Join(got, "|"), err, c.want)
			}
		})
	}
}
