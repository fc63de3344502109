package tracer

import (
	"fmt"
	"net/netip"
	"strings"
)

// NFTables traces packets through one nftables table, read from
// `nft list table` output or from knftables' Fake.Dump() text. It
// interprets the rules of the table's chains over the contents of its
// sets and maps, crossing the hooks a packet crosses in priority order,
// and follows every slot of numgen and jhash to collect every endpoint
// the first packet of a connection may reach.
//
// A packet from a node address (nodeIPs or loopback) takes the output
// path: the output hooks, then postrouting. Any other takes prerouting,
// then input when its destination (after DNAT) is local, else forward and
// postrouting. Sets and maps with the dynamic flag are filled by traffic,
// so they are empty for a first packet; `update` and `add @set`
// statements change nothing. An `accept` verdict only ends its base
// chain, so a packet that is accepted without DNAT goes on unchanged:
// None.
type NFTables struct {
	family  string // ip, ip6 or inet
	chains  map[string]*nftChain
	sets    map[string]*nftSet
	hooks   map[string][]*nftChain // base chains by hook, in priority order
	nodeIPs []netip.Addr
}

// nftChain is one chain; base is nil for a regular chain.
type nftChain struct {
	name  string
	base  *nftHook
	words [][]string // its rules as read, split into words
	rules [][]stmt   // its rules, compiled
}

// nftHook is where a base chain is hooked.
type nftHook struct {
	typ, hook string
	priority  int
	drop      bool // policy drop
}

// nftPkt is a packet's state as it crosses the hooks. The original
// destination is what `ct original` sees after a DNAT.
type nftPkt struct {
	src, dst, origDst netip.Addr
	dport, origPort   uint64
	proto             uint64
	mark              uint64
	dnat, masq        bool
	// trail and prob are the way so far and its chance (Explain).
	trail *trail
	prob  float64
}

// NewNFTables reads listing, the output of `nft list table` (as the
// kernel prints it, with or without handles); a local address is one of
// nodeIPs or a loopback address.
func NewNFTables(listing string, nodeIPs []netip.Addr) (*NFTables, error) {
	b := newNFTBuilder()
	if err := b.readListing(listing); err != nil {
		return nil, fmt.Errorf("read nft listing: %w", err)
	}
	return b.build(nodeIPs)
}

// NewNFTablesFromDump reads dump, the text of knftables' Fake.Dump() (one
// `add` command a line), as NewNFTables reads a listing.
func NewNFTablesFromDump(dump string, nodeIPs []netip.Addr) (*NFTables, error) {
	b := newNFTBuilder()
	if err := b.readDump(dump); err != nil {
		return nil, fmt.Errorf("read nft dump: %w", err)
	}
	return b.build(nodeIPs)
}

var _ Tracer = (*NFTables)(nil)

// ends are where every branch of in ends; none when the table does not
// see packets of its family.
func (t *NFTables) ends(in Packet) []step {
	if !t.carries(in.Src) || in.Src.BitLen() != in.Dst.BitLen() {
		return nil
	}
	proto, _ := protoNumber(strings.ToLower(string(in.Protocol)))
	port := uint64(uint16(in.Port))
	return t.paths(nftPkt{src: in.Src, dst: in.Dst, origDst: in.Dst, dport: port, origPort: port, proto: proto, prob: 1})
}

// Explain lists the ways p may go.
func (t *NFTables) Explain(in Packet) []Path {
	var out []Path
	for _, s := range t.ends(in) {
		to := s.f.verdict()
		if to == None && s.p.dnat {
			to = netip.AddrPortFrom(s.p.dst, uint16(s.p.dport)).String()
		}
		out = append(out, Path{Rules: s.p.trail.lines(), To: to, Masq: s.p.masq, Prob: s.p.prob})
	}
	return out
}

// Trace follows p.
func (t *NFTables) Trace(in Packet) Result {
	var eps []string
	verdict, masq := None, false
	for _, s := range t.ends(in) {
		switch {
		case s.f == flowDrop || s.f == flowReject:
			if verdict == None {
				verdict = s.f.verdict()
			}
		case s.p.dnat:
			eps = append(eps, netip.AddrPortFrom(s.p.dst, uint16(s.p.dport)).String())
			masq = masq || s.p.masq
		}
	}
	if len(eps) == 0 {
		return Result{Output: verdict}
	}
	return Result{Output: joinSorted(eps), Masq: masq}
}

// carries says whether the table sees packets of a's family.
func (t *NFTables) carries(a netip.Addr) bool {
	switch t.family {
	case "ip":
		return a.Is4()
	case "ip6":
		return a.Is6()
	}
	return true
}

// paths crosses the hooks of p's way through the node; each step ends
// accepted (flowAccept), dropped or rejected.
func (t *NFTables) paths(p nftPkt) []step {
	if t.local(p.src) {
		return t.then(t.hook("output", p), "postrouting")
	}
	var out []step
	for _, s := range t.hook("prerouting", p) {
		switch {
		case s.f != flowAccept:
			out = append(out, s)
		case t.local(s.p.dst):
			out = append(out, t.hook("input", s.p)...)
		default:
			out = append(out, t.then(t.hook("forward", s.p), "postrouting")...)
		}
	}
	return out
}

// then crosses hook with the accepted steps of from.
func (t *NFTables) then(from []step, hook string) []step {
	var out []step
	for _, s := range from {
		if s.f != flowAccept {
			out = append(out, s)
			continue
		}
		out = append(out, t.hook(hook, s.p)...)
	}
	return out
}

// hook runs the base chains of one hook in priority order.
func (t *NFTables) hook(name string, p nftPkt) []step {
	cur := []step{{flowAccept, p}}
	for _, c := range t.hooks[name] {
		var next []step
		for _, s := range cur {
			if s.f != flowAccept || c.natDone(s.p) {
				next = append(next, s)
				continue
			}
			next = append(next, t.enter(c, s.p)...)
		}
		cur = next
	}
	return cur
}

// natDone says a nat chain is skipped: the connection already has its
// binding of the chain's kind (destination before routing, source after).
func (c *nftChain) natDone(p nftPkt) bool {
	if c.base.typ != "nat" {
		return false
	}
	switch c.base.hook {
	case "prerouting", "output":
		return p.dnat
	}
	return p.masq
}

// enter runs a base chain; its end applies its policy.
func (t *NFTables) enter(c *nftChain, p nftPkt) []step {
	out := t.run(c, 0, p, 0)
	for i := range out {
		if out[i].f == flowReturn {
			out[i].f = flowAccept
			if c.base.drop {
				out[i].f = flowDrop
			}
		}
	}
	return out
}

// local says whether a is the node's: one of nodeIPs or loopback.
func (t *NFTables) local(a netip.Addr) bool {
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
