package iptables

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// The chains kube-proxy owns outside the per-service ones.
const (
	chainServices         = "KUBE-SERVICES"
	chainExternalServices = "KUBE-EXTERNAL-SERVICES"
	chainNodePorts        = "KUBE-NODEPORTS"
	chainPostrouting      = "KUBE-POSTROUTING"
	chainMarkMasq         = "KUBE-MARK-MASQ"
	chainForward          = "KUBE-FORWARD"
	chainProxyFirewall    = "KUBE-PROXY-FIREWALL"
	chainKubeletFirewall  = "KUBE-FIREWALL"
	chainCanary           = "KUBE-PROXY-CANARY"
)

// largeClusterEndpoints is kube-proxy's threshold for "large cluster
// mode": past it the per-endpoint comments are left out.
const largeClusterEndpoints = 1000

// renderer turns a State into iptables-restore text in two passes over
// the services, both running the same code with different buffers on.
// The first (Backend.build) writes the filter table and the nat chain
// lines, which are small, and decides what the restore does; the second
// (writeTo) streams the nat rules, the bulk of the text, which come after
// the nat chain lines, straight to iptables-restore, so the text is never
// held whole. Its buffers are reused from sync to sync.
type renderer struct {
	filterChains, filterRules, natChains, natRules buffer

	names nameCache
	probs []string

	// Per-render settings.
	st          *proxy.State
	masqMark    string // "0x4000"
	masqMatch   string // "0x4000/0x4000"
	localCIDR   string // the cluster CIDR of the family, or ""
	ipv6        bool
	randomFully bool
	tcpLiberal  bool
	large       bool

	// What the first pass decided: whether each service's own chains
	// are written, and the stale chains deleted.
	writes  []bool
	deleted []string
}

// setup prepares a render of st.
func (r *renderer) setup(st *proxy.State) {
	r.st = st
	r.masqMark = st.Options.MasqueradeMark()
	r.masqMatch = r.masqMark + "/" + r.masqMark
	r.ipv6 = st.Family == corev1.IPv6Protocol
	r.localCIDR = ""
	for _, p := range st.Options.ClusterCIDRs {
		if proxy.Family(p.Addr()) == st.Family {
			r.localCIDR = p.String()
			break
		}
	}
	n := 0
	for _, s := range st.Services {
		n += len(s.AllReachable)
	}
	r.large = n > largeClusterEndpoints
	// About 30 bytes per chain line (KUBE-SEP-… - [0:0]): sized once on a
	// first sync instead of doubling.
	if want := (n + 4*len(st.Services)) * 30; cap(r.natChains.b) < want {
		r.natChains.b = make([]byte, 0, want)
	}
	for _, b := range []*buffer{&r.filterChains, &r.filterRules, &r.natChains, &r.natRules} {
		b.reset()
	}
	r.writes, r.deleted = r.writes[:0], nil
}

// prob is 1/n printed as kube-proxy does, computed once per n.
func (r *renderer) prob(n int) string {
	for len(r.probs) <= n {
		i := len(r.probs)
		r.probs = append(r.probs, fmt.Sprintf("%0.10f", 1.0/float64(max(i, 1))))
	}
	return r.probs[n]
}

// head writes the chain lines and rules of the fixed chains that go
// before the services.
func (r *renderer) head() {
	r.filterChains.line("*filter")
	for _, c := range []string{chainServices, chainExternalServices, chainForward, chainNodePorts, chainProxyFirewall} {
		r.filterChains.line(":" + c + " - [0:0]")
	}
	r.natChains.line("*nat")
	for _, c := range []string{chainServices, chainNodePorts, chainPostrouting, chainMarkMasq} {
		r.natChains.line(":" + c + " - [0:0]")
	}
	r.natRules.line("-A", chainPostrouting, "-m", "mark", "!", "--mark", r.masqMatch, "-j", "RETURN")
	r.natRules.line("-A", chainPostrouting, "-j", "MARK", "--xor-mark", r.masqMark)
	r.natRules.words("-A", chainPostrouting, "-m", "comment", "--comment", `"kubernetes service traffic requiring SNAT"`, "-j", "MASQUERADE")
	if r.randomFully {
		r.natRules.word("--random-fully")
	}
	r.natRules.end()
	r.natRules.line("-A", chainMarkMasq, "-j", "MARK", "--or-mark", r.masqMark)
	if r.localhostNodePorts() {
		r.filterChains.line(":" + chainKubeletFirewall + " - [0:0]")
		r.filterRules.line("-A", chainKubeletFirewall, "-m", "comment", "--comment", `"block incoming localnet connections"`,
			"-d", "127.0.0.0/8", "!", "-s", "127.0.0.0/8", "-m", "conntrack", "!", "--ctstate", "RELATED,ESTABLISHED,DNAT", "-j", "DROP")
	}
}

func (r *renderer) localhostNodePorts() bool {
	return !r.ipv6 && r.st.Options.LocalhostNodePorts
}

// deleteChains flushes and deletes stale per-service chains.
func (r *renderer) deleteChains(chains []string) {
	for _, c := range chains {
		r.declareLine(c)
		r.natRules.line("-X", c)
	}
}

// writeTo writes the restore text to w: the filter table and the nat
// chain lines of the first pass, then the nat rules, rendered again as
// they are written (the second pass). It returns the bytes written.
func (r *renderer) writeTo(w io.Writer) (int64, error) {
	if r.st == nil {
		return 0, nil
	}
	cw := &countingWriter{w: w}
	for _, b := range []*buffer{&r.filterChains, &r.filterRules, &r.natChains} {
		if _, err := cw.Write(b.b); err != nil {
			return cw.n, err
		}
		b.off = true
	}
	r.natRules.reset()
	r.natRules.sink = cw
	r.head()
	for i, s := range r.st.Services {
		p := r.plan(s)
		r.dispatch(&p)
		if r.writes[i] {
			r.chains(&p)
		}
	}
	r.deleteChains(r.deleted)
	r.tail()
	r.natRules.flush()
	err := r.natRules.err
	r.natRules.reset()
	return cw.n, err
}

// text is the whole restore text, rendered again.
func (r *renderer) text() []byte {
	var b bytes.Buffer
	r.writeTo(&b) // writes to a bytes.Buffer do not fail
	return b.Bytes()
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// tail writes what goes after the services.
func (r *renderer) tail() {
	r.nodePortsJump()
	if !r.tcpLiberal {
		r.filterRules.line("-A", chainForward, "-m", "conntrack", "--ctstate", "INVALID", "-j", "DROP")
	}
	r.filterRules.line("-A", chainForward, "-m", "comment", "--comment", `"kubernetes forwarding rules"`,
		"-m", "mark", "--mark", r.masqMatch, "-j", "ACCEPT")
	r.filterRules.line("-A", chainForward, "-m", "comment", "--comment", `"kubernetes forwarding conntrack rule"`,
		"-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT")
	r.filterRules.line("COMMIT")
	r.natRules.line("COMMIT")
}

const nodePortsComment = `"kubernetes service nodeports; NOTE: this must be the last rule in this chain"`

// nodePortsJump is the last rule of nat KUBE-SERVICES: to KUBE-NODEPORTS
// for every local address, or for each of --nodeport-addresses.
func (r *renderer) nodePortsJump() {
	addrs := r.st.Options.NodePortAddresses
	if addrs == nil {
		r.natRules.words("-A", chainServices, "-m", "comment", "--comment", nodePortsComment, "-m", "addrtype", "--dst-type", "LOCAL")
		switch {
		case r.ipv6:
			r.natRules.words("!", "-d", "::1/128")
		case !r.st.Options.LocalhostNodePorts:
			r.natRules.words("!", "-d", "127.0.0.0/8")
		}
		r.natRules.line("-j", chainNodePorts)
		return
	}
	for _, ip := range addrs {
		if proxy.Family(ip) != r.st.Family || (ip.IsLoopback() && !r.localhostNodePorts()) {
			continue
		}
		r.natRules.line("-A", chainServices, "-m", "comment", "--comment", nodePortsComment, "-d", ip.String(), "-j", chainNodePorts)
	}
}

// ipString prints an address as kube-proxy does (no prefix length).
func ipString(a netip.Addr) string { return a.String() }
