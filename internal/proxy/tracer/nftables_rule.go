package tracer

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ruleParser compiles the words of one rule (or of a typeof declaration,
// or of a verdict) against the sets and chains of t.
type ruleParser struct {
	w []string
	i int
	t *NFTables
}

var errEnd = errors.New("unexpected end")

func (rp *ruleParser) more() bool { return rp.i < len(rp.w) }

func (rp *ruleParser) peek() string { return rp.at(0) }

func (rp *ruleParser) at(k int) string {
	if rp.i+k < len(rp.w) {
		return rp.w[rp.i+k]
	}
	return ""
}

func (rp *ruleParser) next() string {
	w := rp.peek()
	rp.i++
	return w
}

func (rp *ruleParser) eat(w string) bool {
	if rp.peek() == w {
		rp.i++
		return true
	}
	return false
}

func (rp *ruleParser) expect(w string) error {
	if got := rp.next(); got != w {
		return fmt.Errorf("want %q, got %q", w, got)
	}
	return nil
}

// number reads an unsigned number of at most 32 bits.
func (rp *ruleParser) number() (uint64, error) {
	return strconv.ParseUint(rp.next(), 0, 32)
}

// compile compiles a rule's words into its statements.
func (t *NFTables) compile(words []string) ([]stmt, error) {
	rp := &ruleParser{w: words, t: t}
	var out []stmt
	for rp.more() {
		s, err := rp.stmt()
		if err != nil {
			return nil, err
		}
		if s != nil {
			out = append(out, s)
		}
	}
	return out, nil
}

// stmt reads one statement; counters and comments are nil.
func (rp *ruleParser) stmt() (stmt, error) {
	switch rp.peek() {
	case "counter":
		rp.skipCounter()
		return nil, nil
	case "comment":
		rp.i += 2
		return nil, nil
	case "accept", "drop", "reject", "return", "continue", "jump", "goto":
		return rp.verdict()
	case "masquerade", "snat":
		return rp.snat()
	case "dnat":
		return rp.dnat()
	case "update", "add":
		return rp.update()
	}
	lhs, err := rp.expr()
	if err != nil {
		return nil, err
	}
	if rp.eat("set") {
		return rp.set(lhs)
	}
	return rp.match(lhs)
}

func (rp *ruleParser) skipCounter() {
	rp.next()
	if rp.peek() == "packets" && rp.at(2) == "bytes" {
		rp.i += 4
	}
}

func (rp *ruleParser) verdict() (stmt, error) {
	v := verdictStmt{verb: rp.next()}
	switch v.verb {
	case "jump", "goto":
		v.chain = strings.Trim(rp.next(), `"`)
		if rp.t.chains[v.chain] == nil {
			return nil, fmt.Errorf("%s to unknown chain %q", v.verb, v.chain)
		}
	case "reject":
		if rp.eat("with") {
			return v, rp.rejectWith()
		}
	case "accept", "drop", "return", "continue":
	default:
		return nil, fmt.Errorf("unknown verdict %q", v.verb)
	}
	return v, nil
}

// rejectWith reads what follows `reject with`.
func (rp *ruleParser) rejectWith() error {
	switch w := rp.next(); w {
	case "tcp":
		return rp.expect("reset")
	case "icmp", "icmpv6", "icmpx":
		rp.eat("type") // nft 1.0 lists `with icmp port-unreachable`
		if rp.next() == "" {
			return errEnd
		}
		return nil
	default:
		return fmt.Errorf("unknown reject with %q", w)
	}
}

// snat reads masquerade or snat: the trace only needs to know the source
// is rewritten.
func (rp *ruleParser) snat() (stmt, error) {
	if rp.next() == "snat" {
		rp.eatFamily()
		if err := rp.expect("to"); err != nil {
			return nil, err
		}
		if _, ok := natTarget(rp.next()); !ok {
			return nil, fmt.Errorf("snat to %q: not an address", rp.w[rp.i-1])
		}
	} else if rp.eat("to") {
		rp.next() // a port range
	}
	rp.natFlags()
	return snatStmt{}, nil
}

func (rp *ruleParser) eatFamily() {
	if (rp.peek() == "ip" || rp.peek() == "ip6") && rp.at(1) == "to" {
		rp.next()
	}
}

func (rp *ruleParser) natFlags() {
	for isNATFlags(rp.peek()) {
		rp.next()
	}
}

func isNATFlags(w string) bool {
	if w == "" {
		return false
	}
	for _, f := range strings.Split(w, ",") {
		if f != "random" && f != "fully-random" && f != "persistent" {
			return false
		}
	}
	return true
}

// dnat reads `dnat [ip|ip6] to` a fixed address[:port], or an expression
// of address [. port], or an expression looked up in such a map.
func (rp *ruleParser) dnat() (stmt, error) {
	rp.next()
	rp.eatFamily()
	if err := rp.expect("to"); err != nil {
		return nil, err
	}
	var d dnatStmt
	if v, ok := natTarget(rp.peek()); ok {
		rp.next()
		d.fixed = v
	} else if err := rp.dnatExpr(&d); err != nil {
		return nil, err
	}
	rp.natFlags()
	return d, nil
}

func (rp *ruleParser) dnatExpr(d *dnatStmt) error {
	to, err := rp.expr()
	if err != nil {
		return err
	}
	d.to = to
	kinds := to.kinds()
	if rp.eat("map") {
		if d.m, err = rp.setRef(to, "map"); err != nil {
			return err
		}
		kinds = d.m.valKinds
	}
	if len(kinds) == 0 || len(kinds) > 2 || kinds[0] != kindAddr || (len(kinds) == 2 && kinds[1] != kindNum) {
		return errors.New("dnat to something other than address [. port]")
	}
	return nil
}

// update reads `update @set { key [timeout T] [: value] }`.
func (rp *ruleParser) update() (stmt, error) {
	rp.next()
	ref := rp.next()
	s := rp.t.sets[strings.TrimPrefix(ref, "@")]
	if !strings.HasPrefix(ref, "@") || s == nil {
		return nil, fmt.Errorf("update of unknown set %q", ref)
	}
	if err := rp.expect("{"); err != nil {
		return nil, err
	}
	key, err := rp.expr()
	if err != nil {
		return nil, err
	}
	if err := sameKinds(key.kinds(), s.keyKinds, s.name); err != nil {
		return nil, err
	}
	u := updateStmt{exprs: []expr{key}}
	if rp.eat("timeout") {
		rp.next()
	}
	if rp.eat(":") {
		v, err := rp.expr()
		if err != nil {
			return nil, err
		}
		u.exprs = append(u.exprs, v)
	}
	return u, rp.expect("}")
}

// set reads `meta mark set <expr>`.
func (rp *ruleParser) set(lhs expr) (stmt, error) {
	if len(lhs) != 1 || lhs[0].name != "meta mark" {
		return nil, errors.New("only meta mark can be set")
	}
	v, err := rp.expr()
	if err != nil {
		return nil, err
	}
	if len(v) != 1 || v[0].kind != kindNum {
		return nil, errors.New("meta mark set to something other than a number")
	}
	return markStmt{v}, nil
}

// match reads what follows an expression: vmap, or a (negated)
// comparison with a set or a constant.
func (rp *ruleParser) match(lhs expr) (stmt, error) {
	if rp.eat("vmap") {
		m, err := rp.setRef(lhs, "vmap")
		return vmapStmt{lhs, m}, err
	}
	m := matchStmt{lhs: lhs, neg: rp.eat("!=")}
	if !m.neg {
		rp.eat("==")
	}
	if w := rp.peek(); w == "{" || strings.HasPrefix(w, "@") {
		s, err := rp.setRef(lhs, "set")
		m.test = func(k []val) bool { return s.lookup(k) != nil }
		return m, err
	}
	if !rp.more() {
		return nil, fmt.Errorf("%s compared with nothing", lhs[0].name)
	}
	if len(lhs) != 1 {
		return nil, fmt.Errorf("concatenation compared with %q", rp.peek())
	}
	sp, err := parseSpan(lhs[0].kind, rp.next())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", lhs[0].name, err)
	}
	m.test = constTest(lhs[0].kind, sp)
	return m, nil
}

// constTest compares with a constant; ct flags match any of theirs.
func constTest(k valKind, sp span) func([]val) bool {
	if k == kindState || k == kindStatus {
		return func(v []val) bool { return v[0].num&sp.lo.num != 0 }
	}
	return func(v []val) bool { return sp.has(v[0]) }
}

// setRef reads `@name` or an anonymous `{ ... }` looked up with lhs. want
// is "set" (any set or map), "vmap" or "map" (a data map).
func (rp *ruleParser) setRef(lhs expr, want string) (*nftSet, error) {
	var s *nftSet
	switch w := rp.next(); {
	case w == "{" && want != "map":
		s = &nftSet{name: "{...}", keyKinds: lhs.kinds(), isMap: want == "vmap", verdicts: want == "vmap"}
		if err := rp.anonymous(s); err != nil {
			return nil, err
		}
	case strings.HasPrefix(w, "@"):
		if s = rp.t.sets[w[1:]]; s == nil {
			return nil, fmt.Errorf("unknown set %s", w)
		}
	default:
		return nil, fmt.Errorf("want a %s, got %q", want, w)
	}
	switch {
	case want == "vmap" && !s.verdicts:
		return nil, fmt.Errorf("@%s is not a verdict map", s.name)
	case want == "map" && s.valKinds == nil:
		return nil, fmt.Errorf("@%s is not a data map", s.name)
	}
	return s, sameKinds(lhs.kinds(), s.keyKinds, s.name)
}

func sameKinds(got, want []valKind, set string) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d fields looked up in @%s of %d", len(got), set, len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Errorf("field %d looked up in @%s is of another type", i+1, set)
		}
	}
	return nil
}

// anonymous reads the elements of an anonymous set up to its "}".
func (rp *ruleParser) anonymous(s *nftSet) error {
	start, depth := rp.i, 1
	for depth > 0 {
		switch rp.next() {
		case "{":
			depth++
		case "}":
			depth--
		case "":
			return errEnd
		}
	}
	s.raw = splitWord(rp.w[start:rp.i-1], ",")
	return rp.t.parseElements(s)
}
