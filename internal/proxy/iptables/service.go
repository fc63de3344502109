package iptables

import (
	"github.com/svcplane/svcplane/internal/proxy"
)

// plan is what kube-proxy decides about one service port before writing
// its rules.
type plan struct {
	s *proxy.ServiceState
	n *portNames

	hasEndpoints, hasInternal, hasExternal  bool
	usesCluster, usesLocal, usesExt, usesFW bool
	internalChain, externalPolicyChain      string
	lbChain                                 string
	// The filter verdicts for internal and external traffic without
	// (local) endpoints, with their comment suffixes.
	intTarget, intComment string
	extTarget, extComment string
}

func (r *renderer) plan(s *proxy.ServiceState) plan {
	n := r.names.get(s.Name)
	p := plan{s: s, n: n, hasEndpoints: s.HasAny}
	p.usesCluster = len(s.Cluster) > 0 && s.UsesClusterEndpoints()
	p.usesLocal = len(s.Local) > 0 && s.UsesLocalEndpoints()
	p.internalChain, p.hasInternal = n.svc, p.hasEndpoints
	if s.InternalPolicyLocal {
		p.internalChain, p.hasInternal = n.svl, p.hasEndpoints && len(s.Local) > 0
	}
	p.externalPolicyChain, p.hasExternal = n.svc, p.hasEndpoints
	if s.ExternalPolicyLocal {
		p.externalPolicyChain, p.hasExternal = n.svl, p.hasEndpoints && len(s.Local) > 0
	}
	p.usesExt = p.hasEndpoints && s.ExternallyAccessible()
	p.lbChain = n.ext
	p.usesFW = p.hasEndpoints && len(s.LoadBalancerVIPs) > 0 && len(s.LoadBalancerSourceRanges) > 0
	if p.usesFW {
		p.lbChain = n.fw
	}
	switch {
	case !p.hasEndpoints:
		p.intTarget, p.intComment = "REJECT", " has no endpoints"
		p.extTarget, p.extComment = "REJECT", " has no endpoints"
	default:
		if !p.hasInternal {
			p.intTarget, p.intComment = "DROP", " has no local endpoints"
		}
		if !p.hasExternal {
			p.extTarget, p.extComment = "DROP", " has no local endpoints"
		}
	}
	return p
}

// dispatch writes the rules of the shared chains that lead to the service
// port (nat KUBE-SERVICES and KUBE-NODEPORTS; filter KUBE-SERVICES,
// KUBE-EXTERNAL-SERVICES, KUBE-NODEPORTS, KUBE-PROXY-FIREWALL). They are
// rewritten on every sync.
func (r *renderer) dispatch(p *plan) {
	s, n := p.s, p.n
	if p.hasInternal {
		r.match(&r.natRules, chainServices, n, " cluster IP", n.clusterIPString(s.ClusterIP), s.Port)
		r.natRules.line("-j", p.internalChain)
	} else {
		r.match(&r.filterRules, chainServices, n, p.intComment, n.clusterIPString(s.ClusterIP), s.Port)
		r.filterRules.line("-j", p.intTarget)
	}
	for _, ip := range s.ExternalIPs {
		if p.hasEndpoints {
			r.match(&r.natRules, chainServices, n, " external IP", ipString(ip), s.Port)
			r.natRules.line("-j", n.ext)
		}
		if !p.hasExternal {
			r.match(&r.filterRules, chainExternalServices, n, p.extComment, ipString(ip), s.Port)
			r.filterRules.line("-j", p.extTarget)
		}
	}
	r.loadBalancers(p)
	r.nodePorts(p)
}

func (r *renderer) loadBalancers(p *plan) {
	s, n := p.s, p.n
	for _, ip := range s.LoadBalancerVIPs {
		if p.hasEndpoints {
			r.match(&r.natRules, chainServices, n, " loadbalancer IP", ipString(ip), s.Port)
			r.natRules.line("-j", p.lbChain)
		}
		if p.usesFW {
			r.filterRules.words("-A", chainProxyFirewall, "-m", "comment", "--comment")
			r.filterRules.quoted(n.name, " traffic not accepted by ", n.fw)
			r.filterRules.words("-m", n.proto, "-p", n.proto, "-d", ipString(ip), "--dport")
			r.filterRules.num(s.Port)
			r.filterRules.line("-j", "DROP")
		}
	}
	if p.hasExternal {
		return
	}
	for _, ip := range s.LoadBalancerVIPs {
		r.match(&r.filterRules, chainExternalServices, n, p.extComment, ipString(ip), s.Port)
		r.filterRules.line("-j", p.extTarget)
	}
}

func (r *renderer) nodePorts(p *plan) {
	s, n := p.s, p.n
	if s.NodePort != 0 {
		if p.hasEndpoints {
			r.natRules.words("-A", chainNodePorts, "-m", "comment", "--comment", n.name, "-m", n.proto, "-p", n.proto, "--dport")
			r.natRules.num(s.NodePort)
			r.natRules.line("-j", n.ext)
		}
		if !p.hasExternal {
			r.filterRules.words("-A", chainExternalServices, "-m", "comment", "--comment")
			r.filterRules.quoted(n.name, p.extComment)
			r.filterRules.words("-m", "addrtype", "--dst-type", "LOCAL", "-m", n.proto, "-p", n.proto, "--dport")
			r.filterRules.num(s.NodePort)
			r.filterRules.line("-j", p.extTarget)
		}
	}
	if s.HealthCheckNodePort != 0 {
		r.filterRules.words("-A", chainNodePorts, "-m", "comment", "--comment")
		r.filterRules.quoted(n.name, " health check node port")
		r.filterRules.words("-m", "tcp", "-p", "tcp", "--dport")
		r.filterRules.num(s.HealthCheckNodePort)
		r.filterRules.line("-j", "ACCEPT")
	}
}

// match writes `-A chain -m comment --comment "name<what>" -m proto -p
// proto -d ip --dport port`, the start of most per-service rules.
func (r *renderer) match(w *buffer, chain string, n *portNames, what, ip string, port int32) {
	w.words("-A", chain, "-m", "comment", "--comment")
	w.quoted(n.name, what)
	w.words("-m", n.proto, "-p", n.proto, "-d", ip, "--dport")
	w.num(port)
}
