package tracer

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// setClause reads one clause of a set's or map's declaration.
func (b *nftBuilder) setClause(s *nftSet, w []string) error {
	var err error
	switch w[0] {
	case "type":
		err = s.declare(w[1:], typeKinds)
	case "typeof":
		err = s.declare(w[1:], b.typeofKinds)
	case "flags":
		err = s.flags(strings.Join(w[1:], ""))
	case "elements":
		if len(w) < 4 || w[1] != "=" || w[2] != "{" || w[len(w)-1] != "}" {
			return fmt.Errorf("set %s: bad elements", s.name)
		}
		s.raw = append(s.raw, splitWord(w[3:len(w)-1], ",")...)
	case "timeout", "gc-interval", "size", "policy", "comment", "counter", "auto-merge":
	default:
		err = fmt.Errorf("unknown clause %q", strings.Join(w, " "))
	}
	if err != nil {
		return fmt.Errorf("set %s: %w", s.name, err)
	}
	return nil
}

func (s *nftSet) flags(list string) error {
	for _, f := range strings.Split(list, ",") {
		switch f {
		case "dynamic":
			s.dynamic = true
		case "interval", "timeout", "constant":
		default:
			return fmt.Errorf("unknown flag %q", f)
		}
	}
	return nil
}

// declare reads `key [: value]` types, with kindsOf for each side.
func (s *nftSet) declare(w []string, kindsOf func([]string) ([]valKind, error)) error {
	key, value, isMap := cutWord(w, ":")
	if isMap != s.isMap {
		return errors.New("a set has no values, a map has")
	}
	var err error
	if s.keyKinds, err = kindsOf(key); err != nil || !isMap {
		return err
	}
	if len(value) == 1 && value[0] == "verdict" {
		s.verdicts = true
		return nil
	}
	s.valKinds, err = kindsOf(value)
	return err
}

// typeKinds reads `type a . b . c`.
func typeKinds(w []string) ([]valKind, error) {
	var out []valKind
	for _, f := range splitWord(w, ".") {
		k, err := typeKind(strings.Join(f, " "))
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if out == nil {
		return nil, errors.New("no type")
	}
	return out, nil
}

func typeKind(name string) (valKind, error) {
	switch name {
	case "ipv4_addr", "ipv6_addr":
		return kindAddr, nil
	case "inet_proto":
		return kindProto, nil
	case "inet_service", "mark", "integer":
		return kindNum, nil
	case "ct_state":
		return kindState, nil
	case "ct_status":
		return kindStatus, nil
	}
	return 0, fmt.Errorf("unsupported type %q", name)
}

// typeofKinds reads `typeof <expr>`.
func (b *nftBuilder) typeofKinds(w []string) ([]valKind, error) {
	rp := &ruleParser{w: w, t: b.t}
	e, err := rp.expr()
	if err == nil && rp.more() {
		err = fmt.Errorf("unexpected %q", rp.peek())
	}
	if err != nil {
		return nil, fmt.Errorf("typeof: %w", err)
	}
	return e.kinds(), nil
}

// parseElements parses the elements of s as read.
func (t *NFTables) parseElements(s *nftSet) error {
	for _, w := range s.raw {
		e, err := t.element(s, w)
		if err != nil {
			return fmt.Errorf("set %s, element %q: %w", s.name, strings.Join(w, " "), err)
		}
		e.text = strings.Join(w, " ")
		s.elems = append(s.elems, e)
	}
	return nil
}

// element parses `key [options] [: value]`.
func (t *NFTables) element(s *nftSet, w []string) (nftElem, error) {
	key, value, hasValue := cutWord(w, ":")
	if hasValue != s.isMap {
		return nftElem{}, errors.New("a set element has no value, a map element has")
	}
	var e nftElem
	fields := splitWord(withoutOptions(key), ".")
	if len(fields) != len(s.keyKinds) {
		return e, fmt.Errorf("%d fields, want %d", len(fields), len(s.keyKinds))
	}
	for i, f := range fields {
		sp, err := parseSpan(s.keyKinds[i], strings.Join(f, " "))
		if err != nil {
			return e, err
		}
		e.key = append(e.key, sp)
	}
	if !hasValue {
		return e, nil
	}
	if s.verdicts {
		return e, t.elementVerdict(&e, value)
	}
	return e, elementValue(&e, s.valKinds, value)
}

func (t *NFTables) elementVerdict(e *nftElem, w []string) error {
	rp := &ruleParser{w: w, t: t}
	v, err := rp.verdict()
	if err == nil && rp.more() {
		err = fmt.Errorf("unexpected %q", rp.peek())
	}
	e.verdict = v
	return err
}

func elementValue(e *nftElem, kinds []valKind, w []string) error {
	fields := splitWord(w, ".")
	if len(fields) != len(kinds) {
		return fmt.Errorf("value of %d fields, want %d", len(fields), len(kinds))
	}
	for i, f := range fields {
		sp, err := parseSpan(kinds[i], strings.Join(f, " "))
		if err != nil {
			return err
		}
		if sp.lo != sp.hi {
			return fmt.Errorf("value %q is not one value", strings.Join(f, " "))
		}
		e.val = append(e.val, sp.lo)
	}
	return nil
}

// withoutOptions drops an element's timeout, expires, comment and counter.
func withoutOptions(w []string) []string {
	var out []string
	for i := 0; i < len(w); i++ {
		switch w[i] {
		case "timeout", "expires", "comment":
			i++
		case "counter":
			if i+4 < len(w) && w[i+1] == "packets" && w[i+3] == "bytes" {
				i += 4
			}
		default:
			out = append(out, w[i])
		}
	}
	return out
}

// parseSpan parses one field of kind k: a value, or for addresses and
// numbers a prefix or a lo-hi range; for ct flags, a comma list.
func parseSpan(k valKind, w string) (span, error) {
	switch k {
	case kindAddr:
		return addrSpan(w)
	case kindNum:
		return numSpan(w)
	case kindProto:
		if n, ok := protoNumber(w); ok {
			return point(val{num: n}), nil
		}
		return numSpan(w)
	case kindState, kindStatus:
		var mask uint64
		for _, f := range strings.Split(w, ",") {
			bit := ctFlag(k, f)
			if bit == 0 {
				return span{}, fmt.Errorf("unknown ct flag %q", f)
			}
			mask |= bit
		}
		return point(val{num: mask}), nil
	}
	if !isFibType(w) {
		return span{}, fmt.Errorf("unknown address type %q", w)
	}
	return point(val{name: w}), nil
}

func addrSpan(w string) (span, error) {
	if strings.Contains(w, "/") {
		p, err := netip.ParsePrefix(w)
		if err != nil {
			return span{}, err
		}
		p = p.Masked()
		return span{val{addr: p.Addr()}, val{addr: lastAddr(p)}}, nil
	}
	lo, hi, isRange := strings.Cut(w, "-")
	a, err := netip.ParseAddr(lo)
	if err != nil || !isRange {
		return point(val{addr: a}), err
	}
	z, err := netip.ParseAddr(hi)
	if err == nil && (z.BitLen() != a.BitLen() || z.Less(a)) {
		err = fmt.Errorf("bad range %q", w)
	}
	return span{val{addr: a}, val{addr: z}}, err
}

// lastAddr is the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

func numSpan(w string) (span, error) {
	lo, hi, isRange := strings.Cut(w, "-")
	a, err := strconv.ParseUint(lo, 0, 64)
	if err != nil || !isRange {
		return point(val{num: a}), err
	}
	z, err := strconv.ParseUint(hi, 0, 64)
	if err == nil && z < a {
		err = fmt.Errorf("bad range %q", w)
	}
	return span{val{num: a}, val{num: z}}, err
}
