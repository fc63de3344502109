package iptablestest

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy/iptables/savefmt"
)

// restore applies iptables-restore text; each table is committed at its
// COMMIT line, as the real tool does.
func (s *stack) restore(text string, noflush bool) error {
	var cur *table
	var curName string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		err := func() error {
			switch {
			case line[0] == '*':
				curName = line[1:]
				cur = s.table(curName).clone()
				if !noflush {
					cur = (&stack{tables: map[string]*table{}}).table(curName)
				}
			case cur == nil:
				return fmt.Errorf("no table")
			case line == "COMMIT":
				if err := cur.check(); err != nil {
					return err
				}
				s.tables[curName], cur = cur, nil
			case line[0] == ':':
				f := strings.Fields(line[1:])
				c := cur.chains[f[0]]
				switch {
				case c == nil:
					cur.chains[f[0]] = &chain{}
				case c.policy == "":
					c.rules = nil
				case len(f) > 1 && f[1] != "-":
					c.policy = f[1]
				}
			default:
				words, err := savefmt.Split(line)
				if err != nil {
					return err
				}
				return cur.op(words)
			}
			return nil
		}()
		if err != nil {
			return fail(1, "iptables-restore: line %d failed: %v", i+1, err)
		}
	}
	if cur != nil {
		return fail(1, "iptables-restore: COMMIT expected at the end")
	}
	return nil
}

// command runs one iptables command line.
func (s *stack) command(args []string) ([]byte, error) {
	tbl := "filter"
	var rest []string
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "-w", "-W":
			if i+1 < len(args) && isNum(args[i+1]) {
				i++
			}
		case "-t":
			i++
			tbl = args[i]
		case "-n", "-v":
		default:
			rest = append(rest, args[i])
		}
	}
	t := s.table(tbl)
	if len(rest) == 0 {
		return nil, fail(2, "no command")
	}
	switch rest[0] {
	case "-S", "-L":
		if len(rest) > 1 {
			c := t.chains[rest[1]]
			if c == nil {
				return nil, fail(1, "iptables: No chain/target/match by that name.")
			}
			var b strings.Builder
			fmt.Fprintf(&b, "-N %s\n", rest[1])
			for _, r := range c.rules {
				fmt.Fprintf(&b, "-A %s %s\n", rest[1], savefmt.Join(r))
			}
			return []byte(b.String()), nil
		}
		return s.save(tbl), nil
	case "-C":
		if len(rest) < 2 || t.chains[rest[1]] == nil {
			return nil, fail(1, "iptables: No chain/target/match by that name.")
		}
		if t.chains[rest[1]].find(rest[2:]) < 0 {
			return nil, fail(1, "iptables: Bad rule (does a matching rule exist in that chain?).")
		}
		return nil, nil
	case "-N":
		if t.chains[rest[1]] != nil {
			return nil, fail(1, "iptables: Chain already exists.")
		}
	}
	if err := t.op(rest); err != nil {
		return nil, fail(1, "iptables: %v", err)
	}
	return nil, t.check()
}

func isNum(s string) bool { _, err := strconv.Atoi(s); return err == nil }

func (c *chain) find(rule []string) int {
	for i, r := range c.rules {
		if strings.Join(r, "\x00") == strings.Join(rule, "\x00") {
			return i
		}
	}
	return -1
}

// op applies -A, -I, -D, -N, -F or -X.
func (t *table) op(w []string) error {
	if len(w) < 2 {
		return fmt.Errorf("bad line %q", strings.Join(w, " "))
	}
	name, rule := w[1], w[2:]
	c := t.chains[name]
	if c == nil && w[0] != "-N" {
		return fmt.Errorf("chain %s does not exist", name)
	}
	switch w[0] {
	case "-A":
		c.rules = append(c.rules, rule)
	case "-I":
		pos := 0
		if len(rule) > 0 && isNum(rule[0]) {
			pos, _ = strconv.Atoi(rule[0])
			pos, rule = pos-1, rule[1:]
		}
		pos = min(max(pos, 0), len(c.rules))
		c.rules = append(c.rules[:pos], append([][]string{rule}, c.rules[pos:]...)...)
	case "-D":
		i := c.find(rule)
		if i < 0 {
			return fmt.Errorf("no rule %q in %s", savefmt.Join(rule), name)
		}
		c.rules = append(c.rules[:i:i], c.rules[i+1:]...)
	case "-N":
		if c != nil {
			return fmt.Errorf("chain %s exists", name)
		}
		t.chains[name] = &chain{}
	case "-F":
		c.rules = nil
	case "-X":
		switch {
		case c.policy != "":
			return fmt.Errorf("cannot delete built-in chain %s", name)
		case len(c.rules) > 0:
			return fmt.Errorf("chain %s is not empty", name)
		case t.referenced(name):
			return fmt.Errorf("chain %s is referenced", name)
		}
		delete(t.chains, name)
	default:
		return fmt.Errorf("unknown command %q", w[0])
	}
	return nil
}
