// Package iptablestest has a stateful fake of the iptables tools for the
// iptables proxy backend: it keeps tables per backend (legacy, nft) and
// family, applies iptables-restore text with --noflush semantics and
// prints iptables-save, so Sync and Rules round-trip.
package iptablestest

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/svcplane/svcplane/internal/proxy/iptables/savefmt"
)

// Fake implements iptables.Exec.
type Fake struct {
	mu     sync.Mutex
	stacks map[string]*stack
	// Version is what --version prints.
	Version string
	// Unavailable names backends ("legacy", "nft") whose kernel side is
	// missing: every command of theirs fails.
	Unavailable map[string]bool
	// FailRestore makes the next restores fail while positive.
	FailRestore int
	// Restores are the inputs of every successful or failed restore.
	Restores []string
}

// NewFake returns an empty fake.
func NewFake() *Fake {
	return &Fake{stacks: map[string]*stack{}, Version: "v1.8.9", Unavailable: map[string]bool{}}
}

// ExitError is a failure with an exit status.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d: %s", e.Code, e.Msg) }

// ExitCode is the exit status.
func (e *ExitError) ExitCode() int { return e.Code }

func fail(code int, format string, a ...any) error {
	return &ExitError{Code: code, Msg: fmt.Sprintf(format, a...)}
}

// Run dispatches on the tool's name: [ip6]iptables[-legacy|-nft][-save|-restore].
func (f *Fake) Run(_ context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	base := path.Base(name)
	family := "4"
	if strings.HasPrefix(base, "ip6tables") {
		family = "6"
	}
	backend := "nft"
	if strings.Contains(base, "-legacy") {
		backend = "legacy"
	}
	if f.Unavailable[backend] {
		return nil, fail(3, "%s: table does not exist (do you need to insmod?)", base)
	}
	st := f.stack(backend + "/" + family)
	switch {
	case strings.HasSuffix(base, "-save"):
		return st.save(tableArg(args)), nil
	case strings.HasSuffix(base, "-restore"):
		f.Restores = append(f.Restores, string(stdin))
		if f.FailRestore > 0 {
			f.FailRestore--
			return nil, fail(1, "iptables-restore: line 1 failed")
		}
		return nil, st.restore(string(stdin), hasArg(args, "--noflush"))
	}
	if hasArg(args, "--version") {
		return []byte(fmt.Sprintf("%s %s (%s)\n", base, f.Version, backend)), nil
	}
	return st.command(args)
}

// Save prints every table of one backend and family ("legacy/4", "nft/6").
func (f *Fake) Save(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.stack(key).save(""))
}

// LastRestore is the input of the last restore.
func (f *Fake) LastRestore() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.Restores) == 0 {
		return ""
	}
	return f.Restores[len(f.Restores)-1]
}

func (f *Fake) stack(key string) *stack {
	s := f.stacks[key]
	if s == nil {
		s = &stack{tables: map[string]*table{}}
		f.stacks[key] = s
	}
	return s
}

func hasArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

func tableArg(args []string) string {
	for i, a := range args {
		if a == "-t" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// builtins are the built-in chains of each table.
var builtins = map[string][]string{
	"filter": {"INPUT", "FORWARD", "OUTPUT"},
	"nat":    {"PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"},
	"mangle": {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"},
	"raw":    {"PREROUTING", "OUTPUT"},
}

// targets are the targets that are not chains.
var targets = map[string]bool{
	"ACCEPT": true, "DROP": true, "REJECT": true, "RETURN": true, "MARK": true, "DNAT": true,
	"SNAT": true, "MASQUERADE": true, "LOG": true, "CONNMARK": true, "NOTRACK": true, "CT": true,
}

type stack struct {
	tables map[string]*table
}

type table struct {
	chains map[string]*chain
}

type chain struct {
	policy string
	rules  [][]string
}

func (s *stack) table(name string) *table {
	t := s.tables[name]
	if t == nil {
		t = &table{chains: map[string]*chain{}}
		for _, c := range builtins[name] {
			t.chains[c] = &chain{policy: "ACCEPT"}
		}
		s.tables[name] = t
	}
	return t
}

func (t *table) clone() *table {
	c := &table{chains: make(map[string]*chain, len(t.chains))}
	for n, ch := range t.chains {
		c.chains[n] = &chain{policy: ch.policy, rules: append([][]string(nil), ch.rules...)}
	}
	return c
}

// order is the built-in chains, then the others sorted, as iptables-save
// lists them.
func (t *table) order(name string) []string {
	out := append([]string(nil), builtins[name]...)
	var user []string
	for n, c := range t.chains {
		if c.policy == "" {
			user = append(user, n)
		}
	}
	sort.Strings(user)
	return append(out, user...)
}

func (s *stack) save(only string) []byte {
	var names []string
	for n := range s.tables {
		if only == "" || n == only {
			names = append(names, n)
		}
	}
	if only != "" && len(names) == 0 {
		s.table(only)
		names = []string{only}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		t := s.tables[n]
		fmt.Fprintf(&b, "*%s\n", n)
		order := t.order(n)
		for _, c := range order {
			p := t.chains[c].policy
			if p == "" {
				p = "-"
			}
			fmt.Fprintf(&b, ":%s %s [0:0]\n", c, p)
		}
		for _, c := range order {
			for _, r := range t.chains[c].rules {
				fmt.Fprintf(&b, "-A %s %s\n", c, savefmt.Join(r))
			}
		}
		b.WriteString("COMMIT\n")
	}
	return []byte(b.String())
}

// referenced says whether a rule of t jumps to name.
func (t *table) referenced(name string) bool {
	for _, c := range t.chains {
		for _, r := range c.rules {
			if target(r) == name {
				return true
			}
		}
	}
	return false
}

// target is the -j or -g argument of a rule.
func target(r []string) string {
	for i, w := range r {
		if (w == "-j" || w == "-g") && i+1 < len(r) {
			return r[i+1]
		}
	}
	return ""
}

// check verifies that every jump of t goes to a chain or a target.
func (t *table) check() error {
	for n, c := range t.chains {
		for _, r := range c.rules {
			if tg := target(r); tg != "" && !targets[tg] && t.chains[tg] == nil {
				return fmt.Errorf("chain %s: couldn't load target %q", n, tg)
			}
		}
	}
	return nil
}
