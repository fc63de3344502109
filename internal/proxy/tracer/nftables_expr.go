package tracer

import (
	"errors"
	"fmt"
	"net/netip"
)

// expr reads a concatenation: field [. field]...
func (rp *ruleParser) expr() (expr, error) {
	var e expr
	for {
		f, err := rp.field()
		if err != nil {
			return nil, err
		}
		e = append(e, f)
		if !rp.eat(".") {
			return e, nil
		}
	}
}

// field reads a primary expression and an optional `& | ^` constant.
func (rp *ruleParser) field() (field, error) {
	f, err := rp.primary()
	if err != nil {
		return field{}, err
	}
	op := rp.peek()
	switch op {
	case "&", "|", "^", "and", "or", "xor":
	default:
		return f, nil
	}
	rp.next()
	n, err := rp.number()
	if err != nil {
		return field{}, fmt.Errorf("%s %s: %w", f.name, op, err)
	}
	return binop(f, op, n), nil
}

func binop(f field, op string, n uint64) field {
	return field{name: f.name + " " + op, kind: kindNum, eval: func(t *NFTables, p *nftPkt) []val {
		vs := f.eval(t, p)
		out := make([]val, len(vs))
		for i, v := range vs {
			switch op {
			case "&", "and":
				out[i].num = v.num & n
			case "|", "or":
				out[i].num = v.num | n
			default:
				out[i].num = v.num ^ n
			}
		}
		return out
	}}
}

func (rp *ruleParser) primary() (field, error) {
	switch w := rp.next(); w {
	case "ip", "ip6":
		return rp.addr(w, false)
	case "meta":
		return rp.meta()
	case "th", "tcp", "udp", "sctp":
		if err := rp.expect("dport"); err != nil {
			return field{}, fmt.Errorf("%s: %w", w, err)
		}
		return dport(w), nil
	case "ct":
		return rp.ct()
	case "numgen":
		return rp.numgen()
	case "jhash":
		return rp.jhash()
	case "fib":
		return rp.fib()
	case "":
		return field{}, errEnd
	default:
		return field{}, fmt.Errorf("unknown expression %q", w)
	}
}

// addr reads saddr or daddr of family fam ("ip" or "ip6"); orig is the
// destination before DNAT (`ct original`).
func (rp *ruleParser) addr(fam string, orig bool) (field, error) {
	dir := rp.next()
	if dir != "saddr" && dir != "daddr" {
		return field{}, fmt.Errorf("unknown expression %q", fam+" "+dir)
	}
	return field{name: fam + " " + dir, kind: kindAddr, eval: func(_ *NFTables, p *nftPkt) []val {
		a := p.src
		switch {
		case dir == "daddr" && orig:
			a = p.origDst
		case dir == "daddr":
			a = p.dst
		}
		if a.Is4() != (fam == "ip") {
			return nil
		}
		return []val{{addr: a}}
	}}, nil
}

func (rp *ruleParser) meta() (field, error) {
	switch w := rp.next(); w {
	case "l4proto":
		return field{name: "meta l4proto", kind: kindProto, eval: func(_ *NFTables, p *nftPkt) []val {
			return []val{{num: p.proto}}
		}}, nil
	case "mark":
		return field{name: "meta mark", kind: kindNum, eval: func(_ *NFTables, p *nftPkt) []val {
			return []val{{num: p.mark}}
		}}, nil
	default:
		return field{}, fmt.Errorf("unknown expression %q", "meta "+w)
	}
}

// dport is `th dport`, or `tcp dport` (and so on) which also requires
// the protocol, as the kernel lists `meta l4proto tcp th dport`.
func dport(proto string) field {
	want, _ := protoNumber(proto)
	return field{name: proto + " dport", kind: kindNum, eval: func(_ *NFTables, p *nftPkt) []val {
		if !hasPorts(p.proto) || (proto != "th" && p.proto != want) {
			return nil
		}
		return []val{{num: p.dport}}
	}}
}

// ct reads ct state, ct status and ct original (ip|ip6) daddr|saddr,
// ct original proto-dst. A first packet is new; its status has dnat once
// a DNAT happened, snat once a masquerade did.
func (rp *ruleParser) ct() (field, error) {
	switch w := rp.next(); w {
	case "state":
		return field{name: "ct state", kind: kindState, eval: func(*NFTables, *nftPkt) []val {
			return []val{{num: ctFlag(kindState, "new")}}
		}}, nil
	case "status":
		return field{name: "ct status", kind: kindStatus, eval: func(_ *NFTables, p *nftPkt) []val {
			var v val
			if p.dnat {
				v.num |= ctFlag(kindStatus, "dnat")
			}
			if p.masq {
				v.num |= ctFlag(kindStatus, "snat")
			}
			return []val{v}
		}}, nil
	case "original":
		return rp.ctOriginal()
	default:
		return field{}, fmt.Errorf("unknown expression %q", "ct "+w)
	}
}

func (rp *ruleParser) ctOriginal() (field, error) {
	switch w := rp.next(); w {
	case "ip", "ip6":
		f, err := rp.addr(w, true)
		f.name = "ct original " + f.name
		return f, err
	case "proto-dst":
		return field{name: "ct original proto-dst", kind: kindNum, eval: func(_ *NFTables, p *nftPkt) []val {
			if !hasPorts(p.proto) {
				return nil
			}
			return []val{{num: p.origPort}}
		}}, nil
	default:
		return field{}, fmt.Errorf("unknown expression %q", "ct original "+w)
	}
}

// numgen reads `numgen random|inc mod N [offset M]`: it may take every
// value.
func (rp *ruleParser) numgen() (field, error) {
	if mode := rp.next(); mode != "random" && mode != "inc" {
		return field{}, fmt.Errorf("unknown numgen %q", mode)
	}
	return rp.slots("numgen", nil)
}

// jhash reads `jhash <expr> mod N [seed S] [offset M]`: it may take every
// value, when the packet has the hashed fields.
func (rp *ruleParser) jhash() (field, error) {
	in, err := rp.expr()
	if err != nil {
		return field{}, err
	}
	return rp.slots("jhash", in)
}

// slots reads `mod N [seed S] [offset M]`: the field takes every value of
// offset..offset+N-1.
func (rp *ruleParser) slots(name string, in expr) (field, error) {
	if err := rp.expect("mod"); err != nil {
		return field{}, fmt.Errorf("%s: %w", name, err)
	}
	n, err := rp.number()
	if err != nil || n == 0 || n > 1<<16 {
		return field{}, fmt.Errorf("%s mod %q", name, rp.w[rp.i-1])
	}
	var off uint64
	if in != nil && rp.eat("seed") {
		if _, err := rp.number(); err != nil {
			return field{}, fmt.Errorf("%s seed: %w", name, err)
		}
	}
	if rp.eat("offset") {
		if off, err = rp.number(); err != nil {
			return field{}, fmt.Errorf("%s offset: %w", name, err)
		}
	}
	return field{name: name, kind: kindNum, eval: func(t *NFTables, p *nftPkt) []val {
		if in != nil && len(in.eval(t, p)) == 0 {
			return nil
		}
		out := make([]val, n)
		for i := range out {
			out[i].num = off + uint64(i)
		}
		return out
	}}, nil
}

// fib reads `fib saddr|daddr [. iif|oif|mark]... type`: local for a node
// address, unicast for any other.
func (rp *ruleParser) fib() (field, error) {
	dir := rp.next()
	if dir != "saddr" && dir != "daddr" {
		return field{}, fmt.Errorf("unknown expression %q", "fib "+dir)
	}
	for rp.peek() == "." && (rp.at(1) == "iif" || rp.at(1) == "oif" || rp.at(1) == "mark") {
		rp.i += 2
	}
	if err := rp.expect("type"); err != nil {
		return field{}, errors.New("fib: only type is known")
	}
	return field{name: "fib " + dir + " type", kind: kindFib, eval: func(t *NFTables, p *nftPkt) []val {
		a := p.src
		if dir == "daddr" {
			a = p.dst
		}
		if t.local(a) {
			return []val{{name: "local"}}
		}
		return []val{{name: "unicast"}}
	}}, nil
}

// protoNumber is the number of a transport protocol's name.
func protoNumber(name string) (uint64, bool) {
	switch name {
	case "icmp":
		return 1, true
	case "tcp":
		return 6, true
	case "udp":
		return 17, true
	case "dccp":
		return 33, true
	case "icmpv6", "ipv6-icmp":
		return 58, true
	case "sctp":
		return 132, true
	case "udplite":
		return 136, true
	}
	return 0, false
}

// hasPorts says whether protocol number n has ports.
func hasPorts(n uint64) bool {
	switch n {
	case 6, 17, 33, 132, 136:
		return true
	}
	return false
}

// ctFlag is the bit of a ct state or ct status name; 0 if unknown.
func ctFlag(k valKind, name string) uint64 {
	if k == kindState {
		switch name {
		case "invalid":
			return 1
		case "established":
			return 2
		case "related":
			return 4
		case "new":
			return 8
		case "untracked":
			return 64
		}
		return 0
	}
	switch name {
	case "expected":
		return 1
	case "seen-reply":
		return 2
	case "assured":
		return 4
	case "confirmed":
		return 8
	case "snat":
		return 16
	case "dnat":
		return 32
	case "dying":
		return 512
	}
	return 0
}

// isFibType says whether name is an address type of fib.
func isFibType(name string) bool {
	switch name {
	case "unspec", "unicast", "local", "broadcast", "anycast", "multicast", "blackhole", "unreachable", "prohibit":
		return true
	}
	return false
}

// natTarget parses a fixed NAT address, with or without a port.
func natTarget(w string) ([]val, bool) {
	if ap, err := netip.ParseAddrPort(w); err == nil {
		return []val{{addr: ap.Addr()}, {num: uint64(ap.Port())}}, true
	}
	if a, err := netip.ParseAddr(w); err == nil {
		return []val{{addr: a}}, true
	}
	return nil, false
}
