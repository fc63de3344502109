package tracer

import (
	"net/netip"
	"strings"
)

// flow is where a packet goes after a statement.
type flow int

const (
	flowNext   flow = iota // on to the rule's next statement
	flowBreak              // out of the rule: on to the next rule
	flowReturn             // out of the chain (return, or its end)
	flowAccept
	flowDrop
	flowReject
)

// verdict is the Result output of a final flow.
func (f flow) verdict() string {
	switch f {
	case flowDrop:
		return Drop
	case flowReject:
		return Reject
	}
	return None
}

// step is one branch of a packet after a statement.
type step struct {
	f flow
	p nftPkt
}

// stmt is one compiled statement of a rule.
type stmt interface {
	exec(t *NFTables, p nftPkt, depth int) []step
}

// maxDepth bounds nested jumps (the kernel allows 16); deeper is a DROP.
const maxDepth = 64

// run runs chain c from its rule i.
func (t *NFTables) run(c *nftChain, i int, p nftPkt, depth int) []step {
	if i == len(c.rules) {
		return []step{{flowReturn, p}}
	}
	var out []step
	for _, s := range t.rule(c, i, 0, p, depth) {
		if s.f == flowBreak {
			out = append(out, t.run(c, i+1, s.p, depth)...)
			continue
		}
		out = append(out, s)
	}
	return out
}

// rule runs the statements of rule i of c from statement k; no step is
// flowNext. A packet that passes the rule's matches has the rule added
// to its trail, unless its action then did nothing.
func (t *NFTables) rule(c *nftChain, i, k int, p nftPkt, depth int) []step {
	stmts := c.rules[i]
	if k == len(stmts) {
		return []step{{flowBreak, p}}
	}
	before, noted := p.trail, k == firstAction(stmts)
	if noted {
		p.trail = p.trail.add(c.name + ": " + strings.Join(c.words[i], " "))
	}
	var out []step
	for _, s := range stmts[k].exec(t, p, depth) {
		if noted && s.f == flowBreak && s.p.trail == p.trail {
			s.p.trail = before // the action did nothing (a map miss): not on the way
		}
		if s.f == flowNext {
			out = append(out, t.rule(c, i, k+1, s.p, depth)...)
			continue
		}
		out = append(out, s)
	}
	return out
}

// firstAction is the index of a rule's first statement that is not a
// match.
func firstAction(stmts []stmt) int {
	for i, s := range stmts {
		if _, ok := s.(matchStmt); !ok {
			return i
		}
	}
	return len(stmts)
}

// call runs a jump's or goto's chain: after a jump the caller goes on
// with its next rule, after a goto it returns.
func (t *NFTables) call(name string, jump bool, p nftPkt, depth int) []step {
	if depth >= maxDepth {
		return []step{{flowDrop, p}}
	}
	out := t.run(t.chains[name], 0, p, depth+1)
	if jump {
		for i := range out {
			if out[i].f == flowReturn {
				out[i].f = flowBreak
			}
		}
	}
	return out
}

// val is the value of one field: an address, a number (port, protocol,
// mark, numgen slot, ct flags) or a name (fib address type).
type val struct {
	addr netip.Addr
	num  uint64
	name string
}

// span is one field of a set element or constant: lo to hi.
type span struct{ lo, hi val }

func point(v val) span { return span{v, v} }

func (s span) has(v val) bool {
	switch {
	case s.lo.addr.IsValid():
		return v.addr.BitLen() == s.lo.addr.BitLen() && s.lo.addr.Compare(v.addr) <= 0 && v.addr.Compare(s.hi.addr) <= 0
	case s.lo.name != "":
		return v.name == s.lo.name
	}
	return !v.addr.IsValid() && v.name == "" && s.lo.num <= v.num && v.num <= s.hi.num
}

// valKind is the type of a field.
type valKind int

const (
	kindAddr valKind = iota
	kindNum
	kindProto
	kindState  // ct state flags
	kindStatus // ct status flags
	kindFib    // fib address type
)

// field is one expression of a concatenation. Its values are the ones it
// may take (several for numgen and jhash, none when the packet has no
// such field).
type field struct {
	name string
	kind valKind
	eval func(t *NFTables, p *nftPkt) []val
}

// expr is a concatenation of fields (often of one).
type expr []field

func (e expr) kinds() []valKind {
	out := make([]valKind, len(e))
	for i, f := range e {
		out[i] = f.kind
	}
	return out
}

// eval gives every key e may take: the product of its fields' values.
func (e expr) eval(t *NFTables, p *nftPkt) [][]val {
	out := [][]val{nil}
	for _, f := range e {
		vs := f.eval(t, p)
		next := make([][]val, 0, len(out)*len(vs))
		for _, k := range out {
			for _, v := range vs {
				next = append(next, append(k[:len(k):len(k)], v))
			}
		}
		out = next
	}
	return out
}

// nftSet is a named or anonymous set or map.
type nftSet struct {
	name     string
	isMap    bool
	keyKinds []valKind
	valKinds []valKind // a data map's values
	verdicts bool      // a verdict map
	dynamic  bool
	raw      [][]string // its elements as read, split into words
	elems    []nftElem
}

// nftElem is one element: a key of spans, and a value or a verdict.
type nftElem struct {
	key     []span
	val     []val
	verdict stmt
	text    string // as read
}

// noteElem adds a named set's element a packet matched to its trail.
func noteElem(tr *trail, s *nftSet, e *nftElem) *trail {
	if strings.HasPrefix(s.name, "{") {
		return tr // an anonymous set: the rule shows it
	}
	return tr.add("  @" + s.name + ": " + e.text)
}

// lookup finds key; a dynamic set is empty for a first packet.
func (s *nftSet) lookup(key []val) *nftElem {
	if s.dynamic {
		return nil
	}
	for i := range s.elems {
		if s.elems[i].holds(key) {
			return &s.elems[i]
		}
	}
	return nil
}

func (e *nftElem) holds(key []val) bool {
	if len(key) != len(e.key) {
		return false
	}
	for i, sp := range e.key {
		if !sp.has(key[i]) {
			return false
		}
	}
	return true
}

// each runs fn on every key e takes for p; no key breaks the rule. Keys
// are equally likely (numgen, jhash), so each has its share of p's
// chance.
func each(t *NFTables, e expr, p nftPkt, fn func(key []val, p nftPkt) []step) []step {
	keys := e.eval(t, &p)
	if len(keys) == 0 {
		return []step{{flowBreak, p}}
	}
	q := p
	q.prob /= float64(len(keys))
	var out []step
	for _, k := range keys {
		out = append(out, fn(k, q)...)
	}
	return out
}

// matchStmt compares an expression with a constant or a set.
type matchStmt struct {
	lhs  expr
	neg  bool
	test func(key []val) bool
}

func (m matchStmt) exec(t *NFTables, p nftPkt, _ int) []step {
	return each(t, m.lhs, p, func(k []val, p nftPkt) []step {
		if m.test(k) != m.neg {
			return []step{{flowNext, p}}
		}
		return []step{{flowBreak, p}}
	})
}

// vmapStmt looks an expression up in a verdict map; a miss breaks.
type vmapStmt struct {
	key expr
	m   *nftSet
}

func (v vmapStmt) exec(t *NFTables, p nftPkt, depth int) []step {
	return each(t, v.key, p, func(k []val, p nftPkt) []step {
		e := v.m.lookup(k)
		if e == nil {
			return []step{{flowBreak, p}}
		}
		p.trail = noteElem(p.trail, v.m, e)
		return e.verdict.exec(t, p, depth)
	})
}

// verdictStmt is accept, drop, reject, return, continue, jump or goto.
type verdictStmt struct {
	verb  string
	chain string
}

func (v verdictStmt) exec(t *NFTables, p nftPkt, depth int) []step {
	switch v.verb {
	case "jump", "goto":
		return t.call(v.chain, v.verb == "jump", p, depth)
	case "accept":
		return []step{{flowAccept, p}}
	case "drop":
		return []step{{flowDrop, p}}
	case "reject":
		return []step{{flowReject, p}}
	case "return":
		return []step{{flowReturn, p}}
	}
	return []step{{flowNext, p}} // continue
}

// dnatStmt rewrites the destination to a fixed address (and port), to
// the value of an expression, or to what a map holds for it.
type dnatStmt struct {
	fixed []val
	to    expr
	m     *nftSet
}

func (d dnatStmt) exec(t *NFTables, p nftPkt, _ int) []step {
	if d.to == nil {
		return []step{{flowAccept, dnatTo(p, d.fixed)}}
	}
	return each(t, d.to, p, func(k []val, p nftPkt) []step {
		if d.m != nil {
			e := d.m.lookup(k)
			if e == nil {
				return []step{{flowBreak, p}}
			}
			k = e.val
			p.trail = noteElem(p.trail, d.m, e)
		}
		return []step{{flowAccept, dnatTo(p, k)}}
	})
}

// dnatTo sends p to address [. port].
func dnatTo(p nftPkt, to []val) nftPkt {
	p.dst, p.dnat = to[0].addr, true
	if len(to) > 1 {
		p.dport = to[1].num
	}
	return p
}

// snatStmt is masquerade or snat.
type snatStmt struct{}

func (snatStmt) exec(_ *NFTables, p nftPkt, _ int) []step {
	p.masq = true
	return []step{{flowAccept, p}}
}

// markStmt is `meta mark set`.
type markStmt struct{ value expr }

func (m markStmt) exec(t *NFTables, p nftPkt, _ int) []step {
	return each(t, m.value, p, func(k []val, p nftPkt) []step {
		q := p
		q.mark = k[0].num & 0xffffffff
		return []step{{flowNext, q}}
	})
}

// updateStmt is `update @set { ... }` or `add @set { ... }`: it changes
// nothing a first packet sees, but breaks when the packet lacks one of
// its fields (as `tcp dport` for a UDP packet).
type updateStmt struct{ exprs []expr }

func (u updateStmt) exec(t *NFTables, p nftPkt, _ int) []step {
	for _, e := range u.exprs {
		if len(e.eval(t, &p)) == 0 {
			return []step{{flowBreak, p}}
		}
	}
	return []step{{flowNext, p}}
}
