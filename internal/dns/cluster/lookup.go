package cluster

// lookup.go: the records of Service, endpoint and pod names. A Service
// name first becomes a list of targets (as CoreDNS's msg.Service: a name,
// an address and a port), from its cluster IPs or from its ready
// endpoints; the A/AAAA and SRV answers are then built from the targets,
// with duplicates dropped. No target means NXDOMAIN (e.g. a headless
// Service with no ready endpoint), targets without records of the asked
// type mean NODATA.

import (
	"iter"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// maxCNAMEs bounds the ExternalName chain followed inside the zone.
const maxCNAMEs = 8

// target is one place a Service name leads to: the name owning addr (the
// Service's or an endpoint's) and a port, -1 when none. addr is invalid
// for a ClusterIP Service that has no cluster IP yet.
type target struct {
	name string
	addr netip.Addr
	port int32
}

// resolveService answers a Service name, its endpoint names and its SRV
// names.
func (c *Cluster) resolveService(qname string, qtype uint16, r request, depth int) result {
	s, eps := c.idx.service(nsName{r.namespace, r.service})
	if s == nil {
		return nxdomain()
	}
	if s.kind == kindExternalName {
		return c.resolveExternal(qname, qtype, r, s, depth)
	}
	ts := c.targets(s, eps, r, qtype == mdns.TypeSRV)
	switch {
	case len(ts) == 0:
		return nxdomain()
	case qtype == mdns.TypeSRV:
		return c.srvResult(qname, ts)
	case r.port == "" && (qtype == mdns.TypeA || qtype == mdns.TypeAAAA):
		return c.addressResult(qname, qtype, ts)
	}
	return nodata()
}

// targets lists what r leads to in Service s: its endpoints for a
// headless Service or an endpoint name, else its cluster IPs. withPorts
// asks for every port (SRV) rather than one entry per address.
func (c *Cluster) targets(s *service, eps []endpoint, r request, withPorts bool) []target {
	name := serviceFQDN(nsName{r.namespace, r.service}, c.zone)
	if s.kind == kindHeadless || r.endpoint != "" {
		return endpointTargets(name, s, eps, r, withPorts)
	}
	ips := s.clusterIPs
	if len(ips) == 0 {
		ips = []netip.Addr{{}}
	}
	var ts []target
	for p := range portsOf(s.ports, r, withPorts) {
		for _, ip := range ips {
			ts = append(ts, target{name: name, addr: ip, port: p})
		}
	}
	return ts
}

// endpointTargets lists the ready endpoints (all of them when the Service
// publishes not-ready addresses) of Service svcName matching r.
func endpointTargets(svcName string, s *service, eps []endpoint, r request, withPorts bool) []target {
	var ts []target
	for _, e := range eps {
		if !e.ready && !s.publishNotReady {
			continue
		}
		label := e.label()
		if r.endpoint != "" && label != r.endpoint {
			continue
		}
		for p := range portsOf(e.ports, r, withPorts) {
			ts = append(ts, target{name: label + "." + svcName, addr: e.addr, port: p})
		}
	}
	return ts
}

// portsOf yields the port numbers of ports that r asks for: those named
// r.port with protocol r.protocol; all of them when r names none and
// withPorts is set; else a single -1 (the address alone).
func portsOf(ports []port, r request, withPorts bool) iter.Seq[int32] {
	return func(yield func(int32) bool) {
		switch {
		case r.port != "":
			for _, p := range ports {
				if p.name == r.port && p.protocol == r.protocol && !yield(p.number) {
					return
				}
			}
		case withPorts && len(ports) > 0:
			for _, p := range ports {
				if !yield(p.number) {
					return
				}
			}
		default:
			yield(-1)
		}
	}
}

// addressResult answers qname with the addresses of ts of qtype's family.
func (c *Cluster) addressResult(qname string, qtype uint16, ts []target) result {
	res := nodata()
	var seen map[netip.Addr]bool // only for many targets; fewer are compared with the ones before
	if len(ts) > 16 {
		seen = make(map[netip.Addr]bool, len(ts))
	}
	for i, t := range ts {
		if !t.addr.IsValid() || t.addr.Is4() != (qtype == mdns.TypeA) || seenBefore(ts, i, seen) {
			continue
		}
		res.answer = append(res.answer, c.addressRR(qname, t.addr))
	}
	return res
}

// seenBefore says the address of ts[i] came earlier in ts, recording it in
// seen when there is one.
func seenBefore(ts []target, i int, seen map[netip.Addr]bool) bool {
	a := ts[i].addr
	if seen != nil {
		if seen[a] {
			return true
		}
		seen[a] = true
		return false
	}
	for _, t := range ts[:i] {
		if t.addr == a {
			return true
		}
	}
	return false
}

// srvResult answers qname with one SRV record per target name and port
// (priority 0, weight 100/N as CoreDNS) and the targets' addresses in the
// Additional section.
func (c *Cluster) srvResult(qname string, ts []target) result {
	type srvKey struct {
		name string
		port int32
	}
	type addrKey struct {
		name string
		addr netip.Addr
	}
	seenSRV, seenAddr := map[srvKey]bool{}, map[addrKey]bool{}
	var srvs []*mdns.SRV
	var extra []mdns.RR
	for _, t := range ts {
		if t.port < 0 {
			continue
		}
		if k := (srvKey{t.name, t.port}); !seenSRV[k] {
			seenSRV[k] = true
			srvs = append(srvs, c.srvRR(qname, 0, t.port, t.name))
		}
		if k := (addrKey{t.name, t.addr}); t.addr.IsValid() && !seenAddr[k] {
			seenAddr[k] = true
			extra = append(extra, c.addressRR(t.name, t.addr))
		}
	}
	if len(srvs) == 0 {
		return nodata()
	}
	res := result{extra: extra}
	for _, s := range srvs {
		s.Weight = srvWeight(len(srvs))
		res.answer = append(res.answer, s)
	}
	return res
}

// srvWeight is CoreDNS's weight for n records of equal priority:
// floor(100/n), at least 1.
func srvWeight(n int) uint16 {
	return uint16(max(100/n, 1))
}

// resolveExternal answers an ExternalName Service with a CNAME for every
// type; a target inside the cluster zone is followed and its records
// added. A target outside is left to the client (the server does not
// chase it).
func (c *Cluster) resolveExternal(qname string, qtype uint16, r request, s *service, depth int) result {
	if r.endpoint != "" || r.port != "" || s.externalName == "" {
		return nxdomain()
	}
	res := result{answer: []mdns.RR{c.cnameRR(qname, s.externalName)}}
	if qtype == mdns.TypeCNAME || depth >= maxCNAMEs || !c.inZone(strings.ToLower(s.externalName)) {
		return res
	}
	next := c.resolve(s.externalName, qtype, depth+1)
	res.answer = mdns.Dedup(append(res.answer, next.answer...), nil) // a loop repeats its CNAMEs
	res.extra = next.extra
	return res
}

// resolvePod answers <ns>.pod.<zone> and <dashed-ip>.<ns>.pod.<zone> per
// the pods mode: NXDOMAIN when disabled, the address from the name when
// insecure, and only for a pod with that address in <ns> when verified.
func (c *Cluster) resolvePod(qname string, qtype uint16, r request) result {
	if c.pods == PodsDisabled || !c.idx.namespaceExists(r.namespace) {
		return nxdomain()
	}
	if r.shape == shapePodNamespace {
		return nodata()
	}
	ip, ok := parseDashed(r.service)
	if !ok || (c.pods == PodsVerified && !c.idx.podExists(ip, r.namespace)) {
		return nxdomain()
	}
	if qtype != mdns.TypeA && qtype != mdns.TypeAAAA {
		return nodata()
	}
	return c.addressResult(qname, qtype, []target{{addr: ip, port: -1}})
}
