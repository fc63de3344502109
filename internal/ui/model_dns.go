package ui

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// addDNS names what the cluster DNS answers for the Service: its name
// (the cluster IP, or the ready endpoints of a headless Service, or a
// CNAME for ExternalName), an SRV name per named port, and for a headless
// Service each ready endpoint's own name (its hostname, else its address
// with dashes), as CoreDNS's kubernetes plugin does.
func addDNS(s *Service, svc *corev1.Service, domain string) {
	if domain == "" {
		domain = "cluster.local"
	}
	base := s.Name + "." + s.Namespace + ".svc." + domain
	name := base
	switch {
	case s.ExternalName != "":
		name += " CNAME " + s.ExternalName
	case s.Headless:
		name += " (A of each ready endpoint)"
	case len(s.ClusterIPs) > 0:
		name += " -> " + strings.Join(s.ClusterIPs, ", ")
	}
	s.DNS = append(s.DNS, name)
	for _, p := range svc.Spec.Ports {
		if p.Name != "" && s.ExternalName == "" {
			s.DNS = append(s.DNS, "_"+p.Name+"._"+strings.ToLower(string(servicePortProto(p)))+"."+base+" (SRV)")
		}
	}
	if !s.Headless {
		return
	}
	for i := range s.Slices {
		for j := range s.Slices[i].Endpoints {
			ep := &s.Slices[i].Endpoints[j]
			if ep.Ready {
				ep.DNS = endpointNames(*ep, base)
			}
		}
	}
}

func endpointNames(ep Endpoint, base string) []string {
	var out []string
	for _, a := range ep.Addresses {
		label := ep.Hostname
		if label == "" {
			addr, err := netip.ParseAddr(a)
			if err != nil {
				continue
			}
			label = dashed(addr)
		}
		out = append(out, label+"."+base)
		if ep.Hostname != "" {
			break
		}
	}
	return out
}

func dashed(a netip.Addr) string {
	if a.Is4() {
		return strings.ReplaceAll(a.String(), ".", "-")
	}
	return strings.ReplaceAll(a.String(), ":", "-")
}

// servicePortProto is a port's protocol, TCP when unset.
func servicePortProto(p corev1.ServicePort) corev1.Protocol {
	if p.Protocol == "" {
		return corev1.ProtocolTCP
	}
	return p.Protocol
}
