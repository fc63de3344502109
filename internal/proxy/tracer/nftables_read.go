package tracer

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
)

// nftWords splits nft text into words: a quoted string is one word,
// braces and semicolons are words of their own and so, inside braces, are
// commas; "#" starts a comment to the end of its line (the handles of
// `nft -a list`).
func nftWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	depth, quoted, comment := 0, false, false
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	for _, r := range s {
		switch {
		case comment:
			comment = r != '\n'
		case quoted:
			cur.WriteRune(r)
			quoted = r != '"'
		case r == '"':
			cur.WriteRune(r)
			quoted = true
		case r == '#' && cur.Len() == 0:
			comment = true
		case r == ' ' || r == '\t' || r == '\r' || r == '\n':
			flush()
		case r == '{' || r == '}' || r == ';' || (r == ',' && depth > 0):
			flush()
			out = append(out, string(r))
			switch r {
			case '{':
				depth++
			case '}':
				depth--
			}
		default:
			cur.WriteRune(r)
		}
	}
	if quoted {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	flush()
	return out, nil
}

// splitWord splits words at each sep word, dropping empty parts.
func splitWord(words []string, sep string) [][]string {
	var out [][]string
	start := 0
	for i := 0; i <= len(words); i++ {
		if i == len(words) || words[i] == sep {
			if i > start {
				out = append(out, words[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// cutWord splits words around the first sep word.
func cutWord(words []string, sep string) (before, after []string, found bool) {
	for i, w := range words {
		if w == sep {
			return words[:i], words[i+1:], true
		}
	}
	return words, nil, false
}

// nftBuilder reads a table's objects, then compiles them.
type nftBuilder struct {
	t      *NFTables
	name   string // the table's
	chains []*nftChain
	sets   []*nftSet
}

func newNFTBuilder() *nftBuilder {
	return &nftBuilder{t: &NFTables{chains: map[string]*nftChain{}, sets: map[string]*nftSet{}, hooks: map[string][]*nftChain{}}}
}

// table notes the table objects belong to: only one is read.
func (b *nftBuilder) table(family, name string) error {
	switch family {
	case "ip", "ip6", "inet":
	default:
		return fmt.Errorf("unsupported family %q", family)
	}
	if b.t.family != "" && (b.t.family != family || b.name != name) {
		return fmt.Errorf("table %s %s after table %s %s: one table only", family, name, b.t.family, b.name)
	}
	b.t.family, b.name = family, name
	return nil
}

// chain is the chain called name (which nft may quote), declared on
// first use.
func (b *nftBuilder) chain(name string) *nftChain {
	name = strings.Trim(name, `"`)
	if c := b.t.chains[name]; c != nil {
		return c
	}
	c := &nftChain{name: name}
	b.t.chains[name] = c
	b.chains = append(b.chains, c)
	return c
}

// set is the set or map called name, declared on first use.
func (b *nftBuilder) set(name string, isMap bool) (*nftSet, error) {
	name = strings.Trim(name, `"`)
	if s := b.t.sets[name]; s != nil {
		if s.isMap != isMap {
			return nil, fmt.Errorf("%s declared as a set and a map", name)
		}
		return s, nil
	}
	s := &nftSet{name: name, isMap: isMap}
	b.t.sets[name] = s
	b.sets = append(b.sets, s)
	return s, nil
}

// build parses the elements, compiles the rules and orders the hooks.
func (b *nftBuilder) build(nodeIPs []netip.Addr) (*NFTables, error) {
	t := b.t
	if t.family == "" {
		return nil, errors.New("no table")
	}
	t.nodeIPs = nodeIPs
	for _, s := range b.sets {
		if s.keyKinds == nil {
			return nil, fmt.Errorf("set %s has no type", s.name)
		}
		if err := t.parseElements(s); err != nil {
			return nil, err
		}
	}
	for _, c := range b.chains {
		for _, w := range c.words {
			stmts, err := t.compile(w)
			if err != nil {
				return nil, fmt.Errorf("chain %s, rule %q: %w", c.name, strings.Join(w, " "), err)
			}
			c.rules = append(c.rules, stmts)
		}
		if c.base != nil {
			t.hooks[c.base.hook] = append(t.hooks[c.base.hook], c)
		}
	}
	for _, cs := range t.hooks {
		sort.SliceStable(cs, func(i, j int) bool { return cs[i].base.priority < cs[j].base.priority })
	}
	return t, nil
}

// chainClause reads one clause of a chain's declaration.
func chainClause(c *nftChain, w []string) error {
	switch w[0] {
	case "type":
		h, err := parseHook(w)
		c.base = h
		return err
	case "policy":
		if c.base == nil || len(w) != 2 || (w[1] != "accept" && w[1] != "drop") {
			return fmt.Errorf("chain %s: bad policy", c.name)
		}
		c.base.drop = w[1] == "drop"
		return nil
	case "comment":
		return nil
	}
	return fmt.Errorf("chain %s: unknown clause %q", c.name, strings.Join(w, " "))
}

// parseHook reads `type T hook H [device D] priority P`.
func parseHook(w []string) (*nftHook, error) {
	if len(w) < 6 || w[2] != "hook" {
		return nil, fmt.Errorf("bad chain type %q", strings.Join(w, " "))
	}
	h := &nftHook{typ: w[1], hook: w[3]}
	rest := w[4:]
	if rest[0] == "device" && len(rest) > 3 {
		rest = rest[2:]
	}
	switch {
	case h.typ != "filter" && h.typ != "nat" && h.typ != "route":
		return nil, fmt.Errorf("unsupported chain type %q", h.typ)
	case !strings.Contains(" prerouting input forward output postrouting ", " "+h.hook+" "):
		return nil, fmt.Errorf("unsupported hook %q", h.hook)
	case rest[0] != "priority":
		return nil, fmt.Errorf("bad chain type %q", strings.Join(w, " "))
	}
	var err error
	h.priority, err = parsePriority(rest[1:])
	return h, err
}

// parsePriority reads a number, or a name with an optional `+ N`/`- N`.
func parsePriority(w []string) (int, error) {
	bad := fmt.Errorf("bad priority %q", strings.Join(w, " "))
	if len(w) == 1 {
		if n, err := strconv.Atoi(w[0]); err == nil {
			return n, nil
		}
	}
	if len(w) != 1 && len(w) != 3 {
		return 0, bad
	}
	base, ok := namedPriority(w[0])
	if !ok {
		return 0, bad
	}
	if len(w) == 1 {
		return base, nil
	}
	n, err := strconv.Atoi(w[2])
	switch {
	case err != nil:
		return 0, bad
	case w[1] == "+":
		return base + n, nil
	case w[1] == "-":
		return base - n, nil
	}
	return 0, bad
}

// namedPriority is the number of a priority name (ip, ip6, inet).
func namedPriority(name string) (int, bool) {
	switch name {
	case "raw":
		return -300, true
	case "mangle":
		return -150, true
	case "dstnat":
		return -100, true
	case "filter":
		return 0, true
	case "security":
		return 50, true
	case "srcnat":
		return 100, true
	}
	return 0, false
}

// readListing reads `nft list table` output, a line at a time.
func (b *nftBuilder) readListing(text string) error {
	r := &listingReader{b: b}
	for n, line := range strings.Split(text, "\n") {
		if err := r.line(line); err != nil {
			return fmt.Errorf("line %d: %w", n+1, err)
		}
	}
	if r.inTable || r.pending != "" {
		return errors.New("unterminated table")
	}
	return nil
}

// listingReader is where a listing's reading is: in the table, in one of
// its sets or chains, in an elements list spread over several lines.
type listingReader struct {
	b       *nftBuilder
	inTable bool
	set     *nftSet
	chain   *nftChain
	pending string // the lines of an unfinished elements list
}

func (r *listingReader) line(text string) error {
	if r.pending != "" {
		return r.elements(text)
	}
	w, err := nftWords(text)
	if err != nil || len(w) == 0 {
		return err
	}
	switch {
	case !r.inTable:
		return r.table(w)
	case r.set == nil && r.chain == nil:
		return r.object(w)
	case len(w) == 1 && w[0] == "}":
		r.set, r.chain = nil, nil
		return nil
	case r.chain != nil && (w[0] == "type" || w[0] == "policy" || w[0] == "comment"):
		return chainClauses(r.chain, w)
	case r.chain != nil:
		r.chain.words = append(r.chain.words, w)
		return nil
	case w[0] == "elements":
		return r.elements(text)
	}
	return r.b.setClause(r.set, w)
}

// table reads `table FAMILY NAME {`.
func (r *listingReader) table(w []string) error {
	if len(w) != 4 || w[0] != "table" || w[3] != "{" {
		return fmt.Errorf("want a table, got %q", strings.Join(w, " "))
	}
	r.inTable = true
	return r.b.table(w[1], w[2])
}

// object reads the start of a set, map or chain, or the table's end.
func (r *listingReader) object(w []string) error {
	var err error
	switch {
	case len(w) == 1 && w[0] == "}":
		r.inTable = false
	case w[0] == "comment" || w[0] == "flags":
	case len(w) != 3 || w[2] != "{":
		err = fmt.Errorf("unexpected %q", strings.Join(w, " "))
	case w[0] == "chain":
		r.chain = r.b.chain(w[1])
	case w[0] == "set" || w[0] == "map":
		r.set, err = r.b.set(w[1], w[0] == "map")
	default:
		err = fmt.Errorf("unsupported object %q", w[0])
	}
	return err
}

// elements gathers the lines of an elements list until its braces
// close: its commas split elements only once its braces are seen.
func (r *listingReader) elements(text string) error {
	r.pending += text + "\n"
	w, err := nftWords(r.pending)
	if err != nil {
		return err
	}
	open := 0
	for _, x := range w {
		switch x {
		case "{":
			open++
		case "}":
			open--
		}
	}
	if open > 0 {
		return nil
	}
	r.pending = ""
	return r.b.setClause(r.set, w)
}

// chainClauses reads `type ... ; policy ... ;` of a chain.
func chainClauses(c *nftChain, w []string) error {
	for _, cl := range splitWord(w, ";") {
		if err := chainClause(c, cl); err != nil {
			return err
		}
	}
	return nil
}

// readDump reads knftables' Fake.Dump() text: `add` commands.
func (b *nftBuilder) readDump(text string) error {
	for n, line := range strings.Split(text, "\n") {
		w, err := nftWords(line)
		if err == nil && len(w) > 0 {
			err = b.dumpLine(w)
		}
		if err != nil {
			return fmt.Errorf("line %d: %w", n+1, err)
		}
	}
	return nil
}

// dumpLine reads `add KIND FAMILY TABLE ...`.
func (b *nftBuilder) dumpLine(w []string) error {
	if len(w) < 4 || w[0] != "add" {
		return fmt.Errorf("want an add command, got %q", strings.Join(w, " "))
	}
	if err := b.table(w[2], w[3]); err != nil {
		return err
	}
	rest := w[4:]
	if w[1] != "table" && len(rest) == 0 {
		return fmt.Errorf("add %s without a name", w[1])
	}
	switch w[1] {
	case "table":
		return nil
	case "chain":
		return b.dumpChain(rest[0], rest[1:])
	case "set", "map":
		return b.dumpSet(rest[0], w[1] == "map", rest[1:])
	case "rule":
		c := b.t.chains[strings.Trim(rest[0], `"`)]
		if c == nil {
			return fmt.Errorf("rule in undeclared chain %q", rest[0])
		}
		c.words = append(c.words, rest[1:])
		return nil
	case "element":
		return b.dumpElement(rest[0], rest[1:])
	}
	return fmt.Errorf("unsupported object %q", w[1])
}

// braced is the inside of `{ ... }`.
func braced(w []string) ([]string, error) {
	if len(w) < 2 || w[0] != "{" || w[len(w)-1] != "}" {
		return nil, fmt.Errorf("want { ... }, got %q", strings.Join(w, " "))
	}
	return w[1 : len(w)-1], nil
}

func (b *nftBuilder) dumpChain(name string, body []string) error {
	c := b.chain(name)
	if len(body) == 0 {
		return nil
	}
	in, err := braced(body)
	if err != nil {
		return err
	}
	return chainClauses(c, in)
}

func (b *nftBuilder) dumpSet(name string, isMap bool, body []string) error {
	s, err := b.set(name, isMap)
	if err != nil {
		return err
	}
	in, err := braced(body)
	if err != nil {
		return err
	}
	for _, cl := range splitWord(in, ";") {
		if err := b.setClause(s, cl); err != nil {
			return err
		}
	}
	return nil
}

func (b *nftBuilder) dumpElement(name string, body []string) error {
	s := b.t.sets[strings.Trim(name, `"`)]
	if s == nil {
		return fmt.Errorf("element of undeclared set %q", name)
	}
	in, err := braced(body)
	if err != nil {
		return err
	}
	s.raw = append(s.raw, splitWord(in, ",")...)
	return nil
}
