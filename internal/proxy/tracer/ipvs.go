package tracer

import (
	"net/netip"
	"strconv"
	"strings"
)

// IPVSService is one IPVS virtual service as the tracer needs it.
type IPVSService struct {
	// Protocol is "tcp", "udp" or "sctp".
	Protocol string
	Addr     netip.Addr
	Port     int32
	// Dests are the real servers a new connection may be scheduled to
	// (those of weight 0 are not).
	Dests []netip.AddrPort
}

// IPVS traces packets through kube-proxy's IPVS mode: the nat table
// (PREROUTING, or OUTPUT from the node), the filter table, the IPVS
// virtual service the destination names (whose real servers replace the
// destination; a service without any rejects, as IPVS answers ICMP port
// unreachable), then nat POSTROUTING. The rules' `-m set` matches read
// the ipsets given.
type IPVS struct {
	ipt      *IPTables
	sets     *ipsets
	services map[string]IPVSService
}

// NewIPVS reads save (iptables-save), the virtual services and the ipsets
// (name to entries in `ipset save` syntax). addrtype LOCAL means nodeIPs,
// the addresses bound to the dummy interface and loopback.
func NewIPVS(save string, services []IPVSService, sets map[string][]string, nodeIPs, bound []netip.Addr) (*IPVS, error) {
	ipt, err := NewIPTables(save, append(append([]netip.Addr{}, nodeIPs...), bound...))
	if err != nil {
		return nil, err
	}
	t := &IPVS{ipt: ipt, sets: &ipsets{sets: sets}, services: map[string]IPVSService{}}
	for _, s := range services {
		t.services[ipvsKey(s.Protocol, s.Addr, s.Port)] = s
	}
	return t, nil
}

func ipvsKey(proto string, a netip.Addr, port int32) string {
	return proto + "/" + netip.AddrPortFrom(a, uint16(port)).String()
}

// ends are where every branch of in ends: a verdict of the nat or filter
// table, none (no virtual service), a REJECT (one without real servers),
// or a real server after nat POSTROUTING. Every real server has an
// equal share (rr, the default scheduler).
func (t *IPVS) ends(in Packet) []outcome {
	p := newPkt(in, t.sets)
	fromNode := t.ipt.local(p.src)
	pre, filterChain := "PREROUTING", "FORWARD"
	switch {
	case fromNode:
		pre, filterChain = "OUTPUT", "OUTPUT"
	case t.ipt.local(p.dst):
		filterChain = "INPUT"
	}
	var out []outcome
	for _, o := range t.ipt.walk("nat", pre, p, 0) {
		if o.verdict == "DROP" || o.verdict == "REJECT" {
			out = append(out, o)
			continue
		}
		for _, f := range t.ipt.walk("filter", filterChain, o.p, 0) {
			if f.verdict == "DROP" || f.verdict == "REJECT" {
				out = append(out, f)
				continue
			}
			out = append(out, t.schedule(f.p)...)
		}
	}
	return out
}

// schedule sends p through the virtual service it is addressed to.
func (t *IPVS) schedule(p pkt) []outcome {
	key := ipvsKey(p.proto, p.dst, p.port)
	svc, ok := t.services[key]
	if !ok {
		return []outcome{{p: p}}
	}
	if len(svc.Dests) == 0 {
		p.trail = p.trail.add("ipvs: " + key + ": no real server")
		return []outcome{{verdict: "REJECT", p: p}}
	}
	var out []outcome
	for _, d := range svc.Dests {
		q := p
		q.dst, q.port, q.dnat = d.Addr(), int32(d.Port()), true
		q.prob /= float64(len(svc.Dests))
		q.trail = q.trail.add("ipvs: " + key + " -> " + d.String())
		for _, post := range t.ipt.walk("nat", "POSTROUTING", q, 0) {
			out = append(out, outcome{verdict: "endpoint", p: post.p})
		}
	}
	return out
}

// Explain lists the ways p may go.
func (t *IPVS) Explain(in Packet) []Path {
	var out []Path
	for _, o := range t.ends(in) {
		out = append(out, o.path())
	}
	return out
}

// Trace follows p.
func (t *IPVS) Trace(in Packet) Result {
	var eps []string
	verdict, masq := None, false
	for _, o := range t.ends(in) {
		switch o.verdict {
		case "endpoint":
			eps = append(eps, netip.AddrPortFrom(o.p.dst, uint16(o.p.port)).String())
			masq = masq || o.p.masq
		case "DROP", "REJECT":
			verdict = firstVerdict(verdict, o.verdict)
		}
	}
	if len(eps) == 0 {
		return Result{Output: verdict}
	}
	return Result{Output: joinSorted(eps), Masq: masq}
}

func firstVerdict(cur, v string) string {
	if cur == None {
		return v
	}
	return cur
}

// ipsets answers set matches over entries in `ipset save` syntax:
// "10.0.0.1,tcp:80", "10.0.0.1,tcp:80,10.0.0.2", "1.2.3.4,tcp:80,10.0.0.0/8",
// "30001" (bitmap:port), "10.0.0.1" (hash:ip).
type ipsets struct {
	sets map[string][]string
}

// match says whether some entry of set name matches p along dirs
// ("dst,dst,src": each part of an entry is compared with the packet's
// source or destination).
func (s *ipsets) match(name, dirs string, p pkt) bool {
	if s == nil {
		return false
	}
	ds := strings.Split(dirs, ",")
	for _, e := range s.sets[name] {
		if entryMatches(strings.Split(e, ","), ds, p) {
			return true
		}
	}
	return false
}

func entryMatches(parts, dirs []string, p pkt) bool {
	if len(parts) > len(dirs) {
		return false
	}
	for i, part := range parts {
		addr := p.dst
		if dirs[i] == "src" {
			addr = p.src
		}
		if !partMatches(part, dirs[i] == "src", addr, p) {
			return false
		}
	}
	return true
}

func partMatches(part string, src bool, addr netip.Addr, p pkt) bool {
	if proto, port, ok := strings.Cut(part, ":"); ok && !strings.Contains(part, ".") && !strings.Contains(proto, "/") && !isAddr(part) {
		return !src && proto == p.proto && port == strconv.Itoa(int(p.port))
	}
	if n, err := strconv.Atoi(part); err == nil {
		return !src && n == int(p.port)
	}
	if strings.Contains(part, "/") {
		pfx, err := netip.ParsePrefix(part)
		return err == nil && pfx.Contains(addr)
	}
	a, err := netip.ParseAddr(part)
	return err == nil && a == addr
}

func isAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
