package iptables

import (
	"bytes"
	"context"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy/iptables/savefmt"
)

// savedTables is what a full sync needs from iptables-save: the chains of
// the nat table (to delete stale per-service ones), whether kube-proxy's
// own chains exist in each table, and the rules of the built-in chains
// that jump to them.
type savedTables struct {
	natChains []string
	// chains holds "table/chain" for the chains of jumps and canaries.
	chains map[string]bool
	// rules holds "table/chain" and the rule's words, joined by NUL, for
	// the rules of built-in chains that jump to a KUBE- chain.
	rules map[string]bool
}

// save runs iptables-save of every table once and reads it.
func (b *Backend) save(ctx context.Context) (*savedTables, error) {
	out, err := b.run(ctx, b.tools.save, nil, nil)
	if err != nil {
		return nil, err
	}
	return parseSave(out), nil
}

// ensuredChains are the chains whose existence ensureJumps needs to know.
func ensuredChains() map[string]bool {
	m := map[string]bool{chainCanary: true}
	for _, j := range append(append([]jump{}, jumps...), kubeletJumps...) {
		m[j.dst] = true
	}
	return m
}

// parseSave reads iptables-save output.
func parseSave(out []byte) *savedTables {
	s := &savedTables{chains: map[string]bool{}, rules: map[string]bool{}}
	wanted := ensuredChains()
	table := ""
	for len(out) > 0 {
		line := out
		if i := bytes.IndexByte(out, '\n'); i >= 0 {
			line, out = out[:i], out[i+1:]
		} else {
			out = nil
		}
		switch {
		case len(line) > 1 && line[0] == '*':
			table = string(line[1:])
		case len(line) > 1 && line[0] == ':':
			i := bytes.IndexByte(line, ' ')
			if i < 0 {
				i = len(line)
			}
			chain := string(line[1:i])
			if table == "nat" {
				s.natChains = append(s.natChains, chain)
			}
			if wanted[chain] {
				s.chains[table+"/"+chain] = true
			}
		case bytes.HasPrefix(line, []byte("-A ")) && bytes.Contains(line, []byte(" -j KUBE-")):
			words, err := savefmt.Split(string(line))
			if err == nil && len(words) > 2 && isBuiltin(words[1]) {
				s.rules[ruleKey(table, words[1], words[2:])] = true
			}
		}
	}
	return s
}

func isBuiltin(chain string) bool {
	switch chain {
	case "PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING":
		return true
	}
	return false
}

func ruleKey(table, chain string, rule []string) string {
	return table + "/" + chain + "\x00" + strings.Join(rule, "\x00")
}

func (s *savedTables) hasChain(table, chain string) bool { return s.chains[table+"/"+chain] }

func (s *savedTables) hasRule(table, chain string, rule []string) bool {
	return s.rules[ruleKey(table, chain, rule)]
}
