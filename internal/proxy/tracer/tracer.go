// Package tracer follows a packet through a proxy backend's rules: from a
// source, to a destination address, port and protocol, it tells which
// endpoints the first packet of a connection may reach (or DROP, REJECT),
// and whether it is masqueraded. Each backend has an evaluator over its
// rules (the stateful fakes in tests, the rules read back from the kernel
// for `svcplane trace`); one table of cases runs through all of them.
package tracer

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// Packet is the first packet of a new connection.
type Packet struct {
	Protocol corev1.Protocol
	Src, Dst netip.Addr
	Port     int32
}

// Verdicts other than endpoints.
const (
	Drop   = "DROP"
	Reject = "REJECT"
	// None means no rule of the proxy handled the packet: it goes on
	// unchanged.
	None = ""
)

// Result is where a packet goes.
type Result struct {
	// Output is the sorted, comma-and-space separated list of the
	// endpoints ("ip:port") the packet may be sent to, or Drop, Reject or
	// None.
	Output string
	// Masq says the packet is masqueraded (source NAT).
	Masq bool
}

// Tracer follows packets through one backend's rules.
type Tracer interface {
	Trace(p Packet) Result
}

// Case is one row of a packet-flow table.
type Case struct {
	Name     string
	Protocol corev1.Protocol // default TCP
	Src, Dst string
	Port     int32
	Want     Result
}

// Run traces every case through tr.
func Run(t *testing.T, tr Tracer, cases []Case) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			p := Packet{Protocol: c.Protocol, Src: netip.MustParseAddr(c.Src), Dst: netip.MustParseAddr(c.Dst), Port: c.Port}
			if p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
			got := tr.Trace(p)
			if got != c.Want {
				t.Errorf("%s -> %s:%d: got %q masq=%v, want %q masq=%v", c.Src, c.Dst, c.Port, got.Output, got.Masq, c.Want.Output, c.Want.Masq)
			}
		})
	}
}

// Path is one way the first packet of a connection may take.
type Path struct {
	// Rules are the rules it matched, in order, each prefixed with its
	// table (iptables), chain (nftables) or "ipvs".
	Rules []string
	// To is the endpoint ("ip:port") it is sent to, or Drop, Reject or
	// None.
	To string
	// Masq says it is masqueraded (source NAT).
	Masq bool
	// Prob is the chance a new connection takes it: the product of the
	// random choices on its way. A path that needs state a new client
	// lacks (a session-affinity entry) has 0.
	Prob float64
}

// Explainer lists every path a packet may take, for `svcplane trace`.
type Explainer interface {
	Explain(p Packet) []Path
}

// trail is the rules a packet matched, newest first. Branches share
// their common part, so a trail is never changed once made.
type trail struct {
	prev *trail
	text string
}

func (t *trail) add(text string) *trail { return &trail{prev: t, text: text} }

// lines are the rules oldest first.
func (t *trail) lines() []string {
	var out []string
	for ; t != nil; t = t.prev {
		out = append(out, t.text)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
