package dnsserver

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/svcplane/svcplane/internal/dns/cluster"
)

// Corefile is what svcplane dns takes from a CoreDNS Corefile: the subset
// that kubeadm's Corefile and the tutorials use. Everything else is
// Refused, line by line, and the server runs without it.
type Corefile struct {
	// Port is the server block's port (53).
	Port string
	// Zone, TTL, Pods and Autopath come from the kubernetes and autopath
	// plugins; Fallthrough from kubernetes' fallthrough (kept for the
	// log: names outside the zone are always forwarded).
	Zone        string
	TTL         uint32
	Pods        string
	Autopath    bool
	Fallthrough []string
	// Upstreams are forward's servers; ResolvConf its resolv.conf.
	Upstreams  []string
	ResolvConf string
	// CacheTTL caps cached answers (cache's first argument).
	CacheTTL time.Duration
	// HealthAddr, ReadyAddr and MetricsAddr are health's, ready's and
	// prometheus' addresses; "" when the plugin is absent.
	HealthAddr, ReadyAddr, MetricsAddr string
	// Lameduck is health's lameduck: how long the server answers after
	// SIGTERM while /ready says 503.
	Lameduck time.Duration
	// Refused are the lines svcplane dns does not implement.
	Refused []Refusal
}

// Refusal is a Corefile line that svcplane dns does not implement.
type Refusal struct {
	Line   int
	Text   string
	Reason string
}

func (r Refusal) String() string {
	return fmt.Sprintf("Corefile line %d: %q: %s", r.Line, r.Text, r.Reason)
}

// corefileLine is one line of a Corefile: its words, and whether it
// opens or closes a block.
type corefileLine struct {
	n           int
	words       []string
	open, close bool
}

// ParseCorefile reads a Corefile. An error means it cannot be read at
// all (unbalanced braces, no server block); directives svcplane does not
// implement are listed in Refused instead.
func ParseCorefile(text string) (Corefile, error) {
	cf := Corefile{Zone: cluster.DefaultZone, TTL: cluster.DefaultTTL, Pods: cluster.PodsDisabled}
	lines := splitCorefile(text)
	blocks := 0
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if len(l.words) == 0 && l.close {
			return cf, fmt.Errorf("corefile line %d: unexpected }", l.n)
		}
		if !l.open {
			return cf, fmt.Errorf("corefile line %d: %q: want a server block (\".:53 {\")", l.n, strings.Join(l.words, " "))
		}
		body, end, err := blockBody(lines, i)
		if err != nil {
			return cf, err
		}
		blocks++
		if blocks > 1 {
			cf.refuse(l, "only one server block is served")
		} else {
			cf.serverBlock(l, body)
		}
		i = end
	}
	if blocks == 0 {
		return cf, fmt.Errorf("corefile: no server block")
	}
	return cf, nil
}

// splitCorefile splits text into lines of words without comments,
// braces taken apart from the words they touch.
func splitCorefile(text string) []corefileLine {
	var out []corefileLine
	for i, raw := range strings.Split(text, "\n") {
		if j := strings.IndexByte(raw, '#'); j >= 0 {
			raw = raw[:j]
		}
		raw = strings.NewReplacer("{", " { ", "}", " } ").Replace(raw)
		l := corefileLine{n: i + 1}
		for _, w := range strings.Fields(raw) {
			switch w {
			case "{":
				l.open = true
			case "}":
				if len(l.words) > 0 || l.open {
					out = append(out, l)
					l = corefileLine{n: i + 1}
				}
				out = append(out, corefileLine{n: i + 1, close: true})
			default:
				l.words = append(l.words, w)
			}
		}
		if len(l.words) > 0 || l.open {
			out = append(out, l)
		}
	}
	return out
}

// blockBody returns the lines inside the block that lines[start] opens
// and the index of its closing line.
func blockBody(lines []corefileLine, start int) ([]corefileLine, int, error) {
	depth := 0
	for i := start; i < len(lines); i++ {
		if lines[i].open {
			depth++
		}
		if lines[i].close {
			depth--
			if depth == 0 {
				return lines[start+1 : i], i, nil
			}
		}
	}
	return nil, 0, fmt.Errorf("corefile line %d: block not closed", lines[start].n)
}

func (cf *Corefile) refuse(l corefileLine, reason string) {
	cf.Refused = append(cf.Refused, Refusal{Line: l.n, Text: strings.Join(l.words, " "), Reason: reason})
}

// serverBlock reads the keys (".:53") and the plugins of a server block.
func (cf *Corefile) serverBlock(head corefileLine, body []corefileLine) {
	cf.Port = "53"
	for _, key := range head.words {
		key = strings.TrimPrefix(key, "dns://")
		zone, port, err := net.SplitHostPort(key)
		if err != nil {
			zone = key
		} else {
			cf.Port = port
		}
		if zone != "." {
			cf.refuse(head, "svcplane dns serves the root zone only (\".:53\")")
		}
	}
	for i := 0; i < len(body); i++ {
		l := body[i]
		var sub []corefileLine
		if l.open {
			var end int
			sub, end, _ = blockBody(body, i) // balanced: the whole block was
			i = end
		}
		if len(l.words) == 0 {
			continue
		}
		cf.plugin(l, sub)
	}
}

// plugin reads one plugin line (and its block) of the server block.
func (cf *Corefile) plugin(l corefileLine, sub []corefileLine) {
	args := l.words[1:]
	switch l.words[0] {
	case "kubernetes":
		cf.kubernetes(l, args, sub)
	case "forward":
		cf.forward(l, args, sub)
	case "cache":
		cf.cache(l, args, sub)
	case "autopath":
		if len(args) != 1 || args[0] != "@kubernetes" {
			cf.refuse(l, "autopath supports @kubernetes only")
			return
		}
		cf.Autopath = true
	case "health":
		cf.HealthAddr = listenAddr(args, ":8080")
		cf.health(sub)
	case "ready":
		cf.ReadyAddr = listenAddr(args, ":8181")
	case "prometheus":
		cf.MetricsAddr = listenAddr(args, ":9153")
	case "errors", "log", "loop", "reload", "loadbalance":
		// What svcplane dns does anyway: errors and queries are logged
		// (queries at --log-level debug), the Corefile is read at start
		// (a ConfigMap edit takes a pod restart, as with reload's
		// minimum), answers are not rotated and forwarding loops are
		// not probed.
	default:
		cf.refuse(l, "plugin not supported by svcplane dns (supported: kubernetes, ttl, pods, fallthrough, "+
			"forward . /etc/resolv.conf, cache, autopath, health, ready, prometheus, errors, log, loop, reload, loadbalance)")
	}
}

// health reads health's block: `lameduck DURATION` (a Go duration, as
// CoreDNS's).
func (cf *Corefile) health(sub []corefileLine) {
	cf.subOptions(sub, "lameduck")
	for _, s := range sub {
		if len(s.words) == 0 || s.words[0] != "lameduck" {
			continue
		}
		d, err := time.ParseDuration(strings.Join(s.words[1:], ""))
		if err != nil || len(s.words) != 2 || d <= 0 {
			cf.refuse(s, "want lameduck DURATION (such as 5s)")
			continue
		}
		cf.Lameduck = d
	}
}

// listenAddr is a plugin's address argument, def without one.
func listenAddr(args []string, def string) string {
	if len(args) == 0 {
		return def
	}
	return args[0]
}

// subOptions refuses the lines of a plugin's block not in allowed.
func (cf *Corefile) subOptions(sub []corefileLine, allowed ...string) {
	for _, s := range sub {
		if len(s.words) == 0 {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || s.words[0] == a
		}
		if !ok {
			cf.refuse(s, "option not supported by svcplane dns")
		}
	}
}

// kubernetes reads `kubernetes ZONES... { pods MODE; ttl N; fallthrough ZONES }`.
func (cf *Corefile) kubernetes(l corefileLine, zones []string, sub []corefileLine) {
	for _, z := range zones {
		switch {
		case strings.HasSuffix(z, "in-addr.arpa") || strings.HasSuffix(z, "ip6.arpa"):
		case cf.Zone == cluster.DefaultZone || cf.Zone == strings.TrimSuffix(z, "."):
			cf.Zone = strings.TrimSuffix(z, ".")
		default:
			cf.refuse(l, "one cluster zone only")
		}
	}
	for _, s := range sub {
		if len(s.words) == 0 {
			continue
		}
		args := s.words[1:]
		switch s.words[0] {
		case "pods":
			c := cluster.Config{Pods: strings.Join(args, " ")}
			if len(args) != 1 || c.Validate() != nil {
				cf.refuse(s, "want pods disabled, insecure or verified")
				continue
			}
			cf.Pods = args[0]
		case "ttl":
			n, err := strconv.ParseUint(strings.Join(args, " "), 10, 32)
			if err != nil || n > uint64(cluster.MaxTTL) {
				cf.refuse(s, fmt.Sprintf("want ttl 0 to %d", cluster.MaxTTL))
				continue
			}
			if n > 0 {
				cf.TTL = uint32(n)
			}
		case "fallthrough":
			cf.Fallthrough = args
		default:
			cf.refuse(s, "kubernetes option not supported by svcplane dns (supported: pods, ttl, fallthrough)")
		}
	}
}

// forward reads `forward . /etc/resolv.conf` or `forward . IP...`.
func (cf *Corefile) forward(l corefileLine, args []string, sub []corefileLine) {
	if len(args) < 2 || args[0] != "." {
		cf.refuse(l, "want forward . /etc/resolv.conf (or . and server addresses)")
		return
	}
	for _, to := range args[1:] {
		switch {
		case strings.HasPrefix(to, "/"):
			cf.ResolvConf = to
		case net.ParseIP(strings.TrimPrefix(to, "dns://")) != nil:
			cf.Upstreams = append(cf.Upstreams, strings.TrimPrefix(to, "dns://"))
		default:
			if _, _, err := net.SplitHostPort(strings.TrimPrefix(to, "dns://")); err != nil {
				cf.refuse(l, fmt.Sprintf("forward to %q: want a resolv.conf path or an address", to))
				continue
			}
			cf.Upstreams = append(cf.Upstreams, strings.TrimPrefix(to, "dns://"))
		}
	}
	cf.subOptions(sub, "max_concurrent", "policy", "health_check", "expire", "max_fails")
}

// cache reads `cache [TTL] { disable success|denial ZONES }`.
func (cf *Corefile) cache(l corefileLine, args []string, sub []corefileLine) {
	cf.CacheTTL = 3600 * time.Second
	if len(args) > 0 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n <= 0 || len(args) > 1 {
			cf.refuse(l, "want cache [TTL]")
			return
		}
		cf.CacheTTL = time.Duration(n) * time.Second
	}
	// disable success|denial ZONE: svcplane dns caches forwarded answers
	// only, never the cluster zone's.
	cf.subOptions(sub, "disable")
}
