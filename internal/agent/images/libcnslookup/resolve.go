package libcnslookup

import (
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// resolver answers like glibc's getaddrinfo and getnameinfo with
// "hosts: files dns".
type resolver struct {
	cfg     Config
	conf    *dns.ClientConfig
	servers []netip.AddrPort
	hosts   []hostsLine
}

func newResolver(cfg Config) *resolver {
	conf, err := dns.ClientConfigFromFile(cfg.ResolvConf)
	if err != nil {
		conf = &dns.ClientConfig{Ndots: 1, Timeout: 5, Attempts: 2}
	}
	r := &resolver{cfg: cfg, conf: conf, hosts: readHosts(cfg.Hosts)}
	port, _ := strconv.ParseUint(cfg.Port, 10, 16)
	for _, s := range conf.Servers {
		if a, err := netip.ParseAddr(s); err == nil {
			r.servers = append(r.servers, netip.AddrPortFrom(a, uint16(port)))
		}
	}
	if len(r.servers) == 0 { // libc's default without nameserver lines
		r.servers = []netip.AddrPort{netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(port))}
	}
	return r
}

// parseServer reads nslookup's SERVER: an address, address:port,
// [v6]:port, or a host name resolved like HOST.
func (r *resolver) parseServer(s string) (netip.AddrPort, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap, true
	}
	host, port := s, uint16(53)
	if h, p, err := net.SplitHostPort(s); err == nil {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return netip.AddrPort{}, false
		}
		host, port = strings.Trim(h, "[]"), uint16(n)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return netip.AddrPortFrom(a, port), true
	}
	if addrs := r.lookupHost(host); len(addrs) > 0 {
		return netip.AddrPortFrom(addrs[0], port), true
	}
	return netip.AddrPort{}, false
}

// lookupHost is getaddrinfo: an address as is, else /etc/hosts, else the
// first name of the search list that has A or AAAA records.
func (r *resolver) lookupHost(name string) []netip.Addr {
	if a, err := netip.ParseAddr(name); err == nil {
		return []netip.Addr{a}
	}
	if addrs := r.hostsAddrs(name); len(addrs) > 0 {
		return r.sort(addrs)
	}
	if name == "" {
		return nil
	}
	for _, fqdn := range r.conf.NameList(name) {
		if addrs := r.lookupIP(fqdn); len(addrs) > 0 {
			return r.sort(addrs)
		}
	}
	return nil
}

// lookupIP asks for the A and AAAA records of fqdn at once, as glibc
// does, and returns the A addresses, then the AAAA.
func (r *resolver) lookupIP(fqdn string) []netip.Addr {
	aaaa := make(chan []netip.Addr, 1)
	go func() { aaaa <- answerAddrs(r.exchange(fqdn, dns.TypeAAAA)) }()
	addrs := answerAddrs(r.exchange(fqdn, dns.TypeA))
	return append(addrs, <-aaaa...)
}

// lookupAddr is getnameinfo with NI_NAMEREQD: the name /etc/hosts gives
// the address, else its PTR record, else "".
func (r *resolver) lookupAddr(a netip.Addr) string {
	if name := r.hostsName(a); name != "" {
		return name
	}
	rev, err := dns.ReverseAddr(a.String())
	if err != nil {
		return ""
	}
	if m := r.exchange(rev, dns.TypePTR); m != nil {
		for _, rr := range m.Answer {
			if ptr, ok := rr.(*dns.PTR); ok {
				return strings.TrimSuffix(ptr.Ptr, ".")
			}
		}
	}
	return ""
}

// exchange asks each server in turn, attempts times, as libc does: a
// server that fails, refuses or gives SERVFAIL passes to the next; any
// other reply is the answer. It returns nil when none answers.
func (r *resolver) exchange(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg).SetQuestion(name, qtype)
	udp := &dns.Client{Timeout: time.Duration(r.conf.Timeout) * time.Second}
	tcp := &dns.Client{Net: "tcp", Timeout: udp.Timeout}
	for range max(r.conf.Attempts, 1) {
		for _, s := range r.servers {
			m, _, err := udp.Exchange(q, s.String())
			if err == nil && m.Truncated {
				m, _, err = tcp.Exchange(q, s.String())
			}
			if err != nil {
				continue
			}
			switch m.Rcode {
			case dns.RcodeServerFailure, dns.RcodeRefused, dns.RcodeNotImplemented:
				continue
			}
			return m
		}
	}
	return nil
}

// answerAddrs is the A and AAAA records of a reply's answer section
// (following a CNAME chain, they all belong to the name asked).
func answerAddrs(m *dns.Msg) []netip.Addr {
	if m == nil || m.Rcode != dns.RcodeSuccess {
		return nil
	}
	var addrs []netip.Addr
	for _, rr := range m.Answer {
		var ip net.IP
		switch rr := rr.(type) {
		case *dns.A:
			ip = rr.A
		case *dns.AAAA:
			ip = rr.AAAA
		default:
			continue
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			if rr.Header().Rrtype == dns.TypeA {
				a = a.Unmap()
			}
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// sort orders addresses as glibc's getaddrinfo does by default (RFC 3484):
// unusable destinations last, then higher precedence first, else as
// the answers came.
func (r *resolver) sort(addrs []netip.Addr) []netip.Addr {
	usable := make(map[netip.Addr]bool, len(addrs))
	var unique []netip.Addr
	for _, a := range addrs {
		if _, seen := usable[a]; !seen {
			usable[a] = r.cfg.Usable(a)
			unique = append(unique, a)
		}
	}
	addrs = unique
	slices.SortStableFunc(addrs, func(a, b netip.Addr) int {
		if usable[a] != usable[b] {
			if usable[a] {
				return -1
			}
			return 1
		}
		return precedence(b) - precedence(a)
	})
	return addrs
}

// precedence is RFC 3484's default policy table, which glibc uses.
func precedence(a netip.Addr) int {
	switch {
	case a.Is4():
		return 10 // ::ffff:0:0/96
	case a == netip.IPv6Loopback():
		return 50
	case a.Is4In6():
		return 10
	case netip.MustParsePrefix("2002::/16").Contains(a):
		return 30
	case netip.MustParsePrefix("::/96").Contains(a):
		return 20
	}
	return 40
}
