package tracer

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// IPTables traces packets through iptables-save text: nat PREROUTING (or
// OUTPUT when the source is the node), the filter chains, then nat
// POSTROUTING, following every branch of statistic and recent matches to
// collect every endpoint a first packet may reach.
type IPTables struct {
	tables  map[string]map[string][]*iptRule
	nodeIPs []netip.Addr
}

// NewIPTables parses save (iptables-save output); addrtype LOCAL means
// nodeIPs and loopback.
func NewIPTables(save string, nodeIPs []netip.Addr) (*IPTables, error) {
	t := &IPTables{tables: map[string]map[string][]*iptRule{}, nodeIPs: nodeIPs}
	var cur map[string][]*iptRule
	for i, line := range strings.Split(save, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line == "COMMIT":
		case line[0] == '*':
			cur = map[string][]*iptRule{}
			t.tables[line[1:]] = cur
		case cur == nil:
			return nil, fmt.Errorf("line %d: no table", i+1)
		case line[0] == ':':
			name := strings.Fields(line[1:])[0]
			if _, ok := cur[name]; !ok {
				cur[name] = nil
			}
		case strings.HasPrefix(line, "-A "):
			r, chain, err := parseRule(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", i+1, err)
			}
			cur[chain] = append(cur[chain], r)
		}
	}
	return t, nil
}

// pkt is a packet's state as it goes.
type pkt struct {
	src, dst netip.Addr
	port     int32
	proto    string
	mark     uint32
	dnat     bool
	masq     bool
	// sets answers `-m set --match-set` (IPVS mode); nil matches nothing.
	sets *ipsets
	// trail and prob are the way so far and its chance (Explain).
	trail *trail
	prob  float64
}

func newPkt(in Packet, sets *ipsets) pkt {
	return pkt{src: in.Src, dst: in.Dst, port: in.Port, proto: strings.ToLower(string(in.Protocol)), sets: sets, prob: 1}
}

// outcome is where one branch ends: verdict "" means it fell through.
type outcome struct {
	verdict string
	p       pkt
}

// ends are where every branch of p ends, in the order the tables are
// crossed: a filter verdict, or (after nat POSTROUTING) an endpoint.
func (t *IPTables) ends(p pkt) []outcome {
	fromNode := t.local(p.src)
	pre := "PREROUTING"
	if fromNode {
		pre = "OUTPUT"
	}
	var out []outcome
	for _, o := range t.walk("nat", pre, p, 0) {
		filterChain := "FORWARD"
		switch {
		case fromNode:
			filterChain = "OUTPUT"
		case t.local(o.p.dst):
			filterChain = "INPUT"
		}
		for _, f := range t.walk("filter", filterChain, o.p, 0) {
			if f.verdict == "DROP" || f.verdict == "REJECT" || !f.p.dnat {
				out = append(out, f)
				continue
			}
			for _, post := range t.walk("nat", "POSTROUTING", f.p, 0) {
				out = append(out, outcome{verdict: "endpoint", p: post.p})
			}
		}
	}
	return out
}

// Trace follows p.
func (t *IPTables) Trace(in Packet) Result {
	var eps []string
	verdict := None
	for _, o := range t.ends(newPkt(in, nil)) {
		switch {
		case o.verdict == "endpoint":
			eps = append(eps, netip.AddrPortFrom(o.p.dst, uint16(o.p.port)).String())
			if o.p.masq {
				verdict = "masq"
			}
		case o.verdict == "DROP" || o.verdict == "REJECT":
			if verdict == None {
				verdict = o.verdict
			}
		case o.verdict == "ACCEPT" && verdict == None:
			verdict = "ACCEPT"
		}
	}
	if len(eps) == 0 {
		if verdict == "masq" {
			verdict = None
		}
		return Result{Output: verdict}
	}
	return Result{Output: joinSorted(eps), Masq: verdict == "masq"}
}

// Explain lists the ways p may go.
func (t *IPTables) Explain(in Packet) []Path {
	var out []Path
	for _, o := range t.ends(newPkt(in, nil)) {
		out = append(out, o.path())
	}
	return out
}

// path is the Path an end makes.
func (o outcome) path() Path {
	to := None
	switch o.verdict {
	case "endpoint":
		to = netip.AddrPortFrom(o.p.dst, uint16(o.p.port)).String()
	case "DROP", "REJECT":
		to = o.verdict
	}
	return Path{Rules: o.p.trail.lines(), To: to, Masq: o.p.masq, Prob: o.p.prob}
}

func joinSorted(eps []string) string {
	sort.Strings(eps)
	out := eps[:0]
	for i, e := range eps {
		if i == 0 || e != eps[i-1] {
			out = append(out, e)
		}
	}
	return strings.Join(out, ", ")
}

func (t *IPTables) local(a netip.Addr) bool {
	if a.IsLoopback() {
		return true
	}
	for _, ip := range t.nodeIPs {
		if ip == a {
			return true
		}
	}
	return false
}

// walk runs chain from its first rule; outcomes with verdict "" fell off
// its end (or RETURNed).
func (t *IPTables) walk(table, chain string, p pkt, depth int) []outcome {
	if depth > 64 {
		return []outcome{{verdict: "DROP", p: p}}
	}
	return t.from(table, t.tables[table][chain], p, depth)
}

func (t *IPTables) from(table string, rules []*iptRule, p pkt, depth int) []outcome {
	for i, r := range rules {
		m := r.matches(p, t.local)
		if m == noMatch {
			continue
		}
		if m == match {
			p.trail = p.trail.add(table + ": " + r.text)
			return t.apply(table, r, rules[i+1:], p, depth)
		}
		// A branch: the rule's way first, then the rest of the chain's.
		taken, passed := p, p
		taken.trail = p.trail.add(table + ": " + r.text)
		taken.prob *= r.prob
		if r.affinity {
			taken.prob, passed.prob = 0, p.prob
		} else {
			passed.prob *= 1 - r.prob
		}
		return append(t.apply(table, r, rules[i+1:], taken, depth), t.from(table, rules[i+1:], passed, depth)...)
	}
	return []outcome{{p: p}}
}

// apply runs r's target on p, then the rest of the chain where the target
// lets the packet go on.
func (t *IPTables) apply(table string, r *iptRule, rest []*iptRule, p pkt, depth int) []outcome {
	switch r.target {
	case "":
		return t.from(table, rest, p, depth)
	case "ACCEPT", "DROP", "REJECT":
		return []outcome{{verdict: r.target, p: p}}
	case "RETURN":
		return []outcome{{p: p}}
	case "MARK":
		p.mark = r.setMark(p.mark)
		return t.from(table, rest, p, depth)
	case "DNAT":
		ap, err := netip.ParseAddrPort(r.toDest)
		if err != nil {
			return []outcome{{verdict: "DROP", p: p}}
		}
		p.dst, p.port, p.dnat = ap.Addr(), int32(ap.Port()), true
		return []outcome{{verdict: "ACCEPT", p: p}}
	case "MASQUERADE", "SNAT":
		p.masq = true
		return []outcome{{verdict: "ACCEPT", p: p}}
	}
	if _, ok := t.tables[table][r.target]; !ok {
		return t.from(table, rest, p, depth) // an unknown target: go on
	}
	var out []outcome
	for _, o := range t.walk(table, r.target, p, depth+1) {
		switch {
		case o.verdict != "":
			out = append(out, o)
		case r.goTo:
			out = append(out, outcome{p: o.p})
		default:
			out = append(out, t.from(table, rest, o.p, depth)...)
		}
	}
	return out
}

func parseMark(s string) (val, mask uint32) {
	v, m, ok := strings.Cut(s, "/")
	val64, _ := strconv.ParseUint(v, 0, 32)
	mask = 0xffffffff
	if ok {
		m64, _ := strconv.ParseUint(m, 0, 32)
		mask = uint32(m64)
	}
	return uint32(val64), mask
}
