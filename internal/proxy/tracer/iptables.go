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
}

// outcome is where one branch ends: verdict "" means it fell through.
type outcome struct {
	verdict string
	p       pkt
}

// Trace follows p.
func (t *IPTables) Trace(in Packet) Result {
	p := pkt{src: in.Src, dst: in.Dst, port: in.Port, proto: strings.ToLower(string(in.Protocol))}
	fromNode := t.local(p.src)
	pre := "PREROUTING"
	if fromNode {
		pre = "OUTPUT"
	}
	var eps []string
	verdict := None
	for _, o := range t.walk("nat", pre, p, 0) {
		filterChain := "FORWARD"
		switch {
		case fromNode:
			filterChain = "OUTPUT"
		case t.local(o.p.dst):
			filterChain = "INPUT"
		}
		for _, f := range t.walk("filter", filterChain, o.p, 0) {
			if f.verdict == "DROP" || f.verdict == "REJECT" {
				if verdict == None {
					verdict = f.verdict
				}
				continue
			}
			if !f.p.dnat {
				if f.verdict == "ACCEPT" && verdict == None {
					verdict = "ACCEPT"
				}
				continue
			}
			for _, post := range t.walk("nat", "POSTROUTING", f.p, 0) {
				ep := netip.AddrPortFrom(post.p.dst, uint16(post.p.port)).String()
				eps = append(eps, ep)
				if post.p.masq {
					verdict = "masq"
				}
			}
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
		var out []outcome
		if m == maybe {
			out = t.from(table, rules[i+1:], p, depth)
		}
		return append(out, t.apply(table, r, rules[i+1:], p, depth)...)
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
