package tracer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy/iptables/savefmt"
)

// iptRule is one parsed rule; only the matches kube-proxy writes are
// understood, and a rule with any other match never matches.
type iptRule struct {
	conds  []cond
	branch bool // statistic or recent --rcheck: may or may not match
	// prob is a statistic match's --probability; affinity marks a recent
	// --rcheck, which a new client never matches.
	prob     float64
	affinity bool
	text     string // the rule as read
	target   string
	goTo     bool
	toDest   string
	markOp   string
	markArg  string
}

// cond is one condition of a rule.
type cond func(p pkt, local func(netip.Addr) bool) bool

type matchKind int

const (
	noMatch matchKind = iota
	match
	maybe
)

func (r *iptRule) matches(p pkt, local func(netip.Addr) bool) matchKind {
	for _, c := range r.conds {
		if !c(p, local) {
			return noMatch
		}
	}
	if r.branch {
		return maybe
	}
	return match
}

func (r *iptRule) setMark(m uint32) uint32 {
	v, mask := parseMark(r.markArg)
	switch r.markOp {
	case "--or-mark":
		return m | v
	case "--xor-mark":
		return m ^ v
	case "--and-mark":
		return m & v
	default: // --set-xmark, --set-mark
		return (m &^ mask) ^ v
	}
}

// parseRule parses "-A CHAIN words...".
func parseRule(line string) (*iptRule, string, error) {
	w, err := savefmt.Split(line)
	if err != nil {
		return nil, "", err
	}
	if len(w) < 2 {
		return nil, "", fmt.Errorf("short rule %q", line)
	}
	r := &iptRule{text: line}
	neg := false
	for i := 2; i < len(w); i++ {
		arg := func() string {
			if i+1 < len(w) {
				i++
				return w[i]
			}
			return ""
		}
		opt := w[i]
		switch opt {
		case "!":
			neg = true
			continue
		case "-m", "--comment", "--mode", "--name", "--seconds", "--reject-with", "--nfacct-name":
			arg()
		case "--probability":
			r.prob, _ = strconv.ParseFloat(arg(), 64)
		case "--mask":
			arg()
		case "--reap", "--set", "--random-fully", "--random", "--rsource", "--rdest":
		case "--rcheck", "--update":
			r.branch, r.affinity = true, true
		case "-s", "--source", "-d", "--destination":
			r.conds = append(r.conds, addrCond(opt == "-s" || opt == "--source", arg(), neg))
		case "-p", "--protocol":
			proto, n := arg(), neg
			r.conds = append(r.conds, func(p pkt, _ func(netip.Addr) bool) bool { return (p.proto == proto) != n })
		case "--dport", "--destination-port":
			port, n := arg(), neg
			r.conds = append(r.conds, func(p pkt, _ func(netip.Addr) bool) bool { return (strconv.Itoa(int(p.port)) == port) != n })
		case "--src-type", "--dst-type":
			src, typ, n := opt == "--src-type", arg(), neg
			r.conds = append(r.conds, func(p pkt, local func(netip.Addr) bool) bool {
				a := p.dst
				if src {
					a = p.src
				}
				return (typ == "LOCAL" && local(a)) != n
			})
		case "--mark":
			v, mask := parseMark(arg())
			n := neg
			r.conds = append(r.conds, func(p pkt, _ func(netip.Addr) bool) bool { return (p.mark&mask == v) != n })
		case "--ctstate":
			states, n := strings.Split(arg(), ","), neg
			r.conds = append(r.conds, func(p pkt, _ func(netip.Addr) bool) bool {
				in := false
				for _, s := range states {
					in = in || s == "NEW" || (s == "DNAT" && p.dnat)
				}
				return in != n
			})
		case "--match-set":
			name, dirs, n := arg(), arg(), neg
			r.conds = append(r.conds, func(p pkt, _ func(netip.Addr) bool) bool { return p.sets.match(name, dirs, p) != n })
		case "--physdev-is-in", "--physdev-is-out", "--physdev-is-bridged":
			n := neg // the traced packets never cross a bridge port here
			r.conds = append(r.conds, func(pkt, func(netip.Addr) bool) bool { return n })
		case "-j", "-g":
			r.target, r.goTo = arg(), opt == "-g"
		case "--to-destination":
			r.toDest = arg()
		case "--or-mark", "--xor-mark", "--and-mark", "--set-xmark", "--set-mark":
			r.markOp, r.markArg = opt, arg()
		default:
			if strings.HasPrefix(opt, "-") {
				arg()
			}
			r.conds = append(r.conds, func(pkt, func(netip.Addr) bool) bool { return false })
		}
		if opt == "-m" && w[i] == "statistic" {
			r.branch = true
		}
		neg = false
	}
	return r, w[1], nil
}

func addrCond(src bool, s string, neg bool) cond {
	if !strings.Contains(s, "/") {
		if a, err := netip.ParseAddr(s); err == nil {
			s = netip.PrefixFrom(a, a.BitLen()).String()
		}
	}
	pfx, err := netip.ParsePrefix(s)
	return func(p pkt, _ func(netip.Addr) bool) bool {
		a := p.dst
		if src {
			a = p.src
		}
		return (err == nil && pfx.Contains(a)) != neg
	}
}
