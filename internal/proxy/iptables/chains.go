package iptables

import (
	"github.com/svcplane/svcplane/internal/proxy"
)

// chains writes the service port's own chains (SVC, SVL, EXT, FW, SEP) and
// returns their names (in the first pass, which writes the chain lines).
func (r *renderer) chains(p *plan) []string {
	s, n := p.s, p.n
	var out []string
	if !r.natChains.off {
		out = make([]string, 0, 4+len(s.AllReachable))
	}
	if p.hasInternal {
		r.clusterIPMasq(p)
	}
	if p.usesExt {
		out = r.declare(out, n.ext)
		r.external(p)
	}
	if p.usesFW {
		out = r.declare(out, n.fw)
		r.firewall(p)
	}
	if p.usesCluster {
		out = r.declare(out, n.svc)
		r.toEndpoints(p, n.svc, s.Cluster)
	}
	if p.usesLocal {
		out = r.declare(out, n.svl)
		r.toEndpoints(p, n.svl, s.Local)
	}
	for i := range s.AllReachable {
		sep := n.sep(&s.AllReachable[i])
		out = r.declare(out, sep.chain)
		r.endpoint(p, sep)
	}
	return out
}

// declare writes the chain line of a per-service chain and adds the chain
// to out, in the pass that writes chain lines.
func (r *renderer) declare(out []string, chain string) []string {
	if r.natChains.off {
		return out
	}
	r.declareLine(chain)
	return append(out, chain)
}

// declareLine writes a nat chain line.
func (r *renderer) declareLine(chain string) {
	w := &r.natChains
	if w.off {
		return
	}
	w.b = append(w.b, ':')
	w.b = append(w.b, chain...)
	w.b = append(w.b, " - [0:0]\n"...)
}

// clusterIPMasq marks traffic to the cluster IP for masquerading: all of
// it with masqueradeAll, else what comes from outside the cluster CIDR.
func (r *renderer) clusterIPMasq(p *plan) {
	s, n := p.s, p.n
	switch {
	case r.st.Options.MasqueradeAll:
		r.match(&r.natRules, p.internalChain, n, " cluster IP", n.clusterIPString(s.ClusterIP), s.Port)
	case r.localCIDR != "":
		r.match(&r.natRules, p.internalChain, n, " cluster IP", n.clusterIPString(s.ClusterIP), s.Port)
		r.natRules.words("!", "-s", r.localCIDR)
	default:
		return
	}
	r.natRules.line("-j", chainMarkMasq)
}

// external writes the KUBE-EXT chain: masquerade (Cluster policy) or the
// short-circuits for pods and the node itself (Local policy), then the
// policy chain.
func (r *renderer) external(p *plan) {
	s, n := p.s, p.n
	w := &r.natRules
	if !s.ExternalPolicyLocal {
		w.words("-A", n.ext, "-m", "comment", "--comment")
		w.quoted("masquerade traffic for ", n.name, " external destinations")
		w.line("-j", chainMarkMasq)
	} else {
		if r.localCIDR != "" {
			w.words("-A", n.ext, "-m", "comment", "--comment")
			w.quoted("pod traffic for ", n.name, " external destinations")
			w.line("-s", r.localCIDR, "-j", n.svc)
		}
		w.words("-A", n.ext, "-m", "comment", "--comment")
		w.quoted("masquerade LOCAL traffic for ", n.name, " external destinations")
		w.line("-m", "addrtype", "--src-type", "LOCAL", "-j", chainMarkMasq)
		w.words("-A", n.ext, "-m", "comment", "--comment")
		w.quoted("route LOCAL traffic for ", n.name, " external destinations")
		w.line("-m", "addrtype", "--src-type", "LOCAL", "-j", n.svc)
	}
	if p.hasExternal {
		w.line("-A", n.ext, "-j", p.externalPolicyChain)
	}
}

// firewall writes the KUBE-FW chain of loadBalancerSourceRanges; what
// falls through is dropped by filter KUBE-PROXY-FIREWALL.
func (r *renderer) firewall(p *plan) {
	s, n := p.s, p.n
	w := &r.natRules
	fromNode := false
	for _, cidr := range s.LoadBalancerSourceRanges {
		w.words("-A", n.fw, "-m", "comment", "--comment")
		w.quoted(n.name, " loadbalancer IP")
		w.line("-s", cidr.String(), "-j", n.ext)
		for _, ip := range r.st.Node.IPs {
			fromNode = fromNode || cidr.Contains(ip)
		}
	}
	if fromNode {
		for _, ip := range s.LoadBalancerVIPs {
			w.words("-A", n.fw, "-m", "comment", "--comment")
			w.quoted(n.name, " loadbalancer IP")
			w.line("-s", ipString(ip), "-j", n.ext)
		}
	}
	w.words("-A", n.fw, "-m", "comment", "--comment")
	w.quoted("other traffic to ", n.name, " will be dropped by KUBE-PROXY-FIREWALL")
	w.end()
}

// toEndpoints writes a SVC or SVL chain: affinity checks, then one rule
// per endpoint with probability 1/(n-i).
func (r *renderer) toEndpoints(p *plan, chain string, eps []proxy.Endpoint) {
	s, n := p.s, p.n
	w := &r.natRules
	if s.AffinitySeconds > 0 {
		for i := range eps {
			sep := n.sep(&eps[i])
			w.words("-A", chain)
			r.sepComment(n, sep)
			w.words("-m", "recent", "--name", sep.chain, "--rcheck", "--seconds")
			w.num(s.AffinitySeconds)
			w.line("--reap", "-j", sep.chain)
		}
	}
	for i := range eps {
		sep := n.sep(&eps[i])
		w.words("-A", chain)
		r.sepComment(n, sep)
		if i < len(eps)-1 {
			w.words("-m", "statistic", "--mode", "random", "--probability", r.prob(len(eps)-i))
		}
		w.line("-j", sep.chain)
	}
}

// endpoint writes a KUBE-SEP chain: hairpin masquerade, then DNAT.
func (r *renderer) endpoint(p *plan, sep *sepNames) {
	n := p.n
	w := &r.natRules
	w.words("-A", sep.chain)
	r.comment(n.name)
	w.line("-s", sep.ip, "-j", chainMarkMasq)
	w.words("-A", sep.chain)
	r.comment(n.name)
	if p.s.AffinitySeconds > 0 {
		w.words("-m", "recent", "--name", sep.chain, "--set")
	}
	w.line("-m", n.proto, "-p", n.proto, "-j", "DNAT", "--to-destination", sep.ipPort)
}

// sepComment writes an endpoint's comment, left out in large clusters as
// kube-proxy does.
func (r *renderer) sepComment(n *portNames, sep *sepNames) {
	if !r.large {
		r.natRules.words("-m", "comment", "--comment", sep.quotedComment(n.name))
	}
}

// comment writes a per-endpoint comment, left out in large clusters as
// kube-proxy does.
func (r *renderer) comment(c string) {
	if !r.large {
		r.natRules.words("-m", "comment", "--comment", c)
	}
}
