package agent

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// podHostname is the pod's hostname: spec.hostname, else its name, cut
// to 63 characters.
func podHostname(pod *corev1.Pod) string {
	h := pod.Spec.Hostname
	if h == "" {
		h = pod.Name
	}
	if len(h) > 63 {
		h = strings.TrimRight(h[:63], "-.")
	}
	return h
}

// hostsFile is the pod's /etc/hosts, as the kubelet writes it; "" for
// hostNetwork pods, which see the node's.
func hostsFile(pod *corev1.Pod, ip, domain string) string {
	if pod.Spec.HostNetwork {
		return ""
	}
	var b strings.Builder
	b.WriteString("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n" +
		"fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	host := podHostname(pod)
	if pod.Spec.Subdomain != "" {
		fqdn := fmt.Sprintf("%s.%s.%s.svc.%s", host, pod.Spec.Subdomain, pod.Namespace, domain)
		fmt.Fprintf(&b, "%s\t%s\t%s\n", ip, fqdn, host)
	} else {
		fmt.Fprintf(&b, "%s\t%s\n", ip, host)
	}
	if len(pod.Spec.HostAliases) > 0 {
		b.WriteString("\n# Entries added by HostAliases.\n")
		for _, a := range pod.Spec.HostAliases {
			fmt.Fprintf(&b, "%s\t%s\n", a.IP, strings.Join(a.Hostnames, "\t"))
		}
	}
	return b.String()
}

// dnsSettings are the cluster's DNS server and domain.
type dnsSettings struct {
	Servers []string
	Domain  string
}

// resolvConf is the pod's /etc/resolv.conf from its dnsPolicy and
// dnsConfig; "" means the node's own file.
func resolvConf(pod *corev1.Pod, dns dnsSettings) string {
	var servers, search []string
	options := map[string]string{}
	var optOrder []string
	policy := pod.Spec.DNSPolicy
	if policy == "" {
		policy = corev1.DNSClusterFirst
	}
	cluster := policy == corev1.DNSClusterFirstWithHostNet ||
		(policy == corev1.DNSClusterFirst && !pod.Spec.HostNetwork)
	switch {
	case cluster && len(dns.Servers) > 0:
		servers = append(servers, dns.Servers...)
		ns := pod.Namespace
		search = []string{ns + ".svc." + dns.Domain, "svc." + dns.Domain, dns.Domain}
		options["ndots"], optOrder = "5", []string{"ndots"}
	case policy != corev1.DNSNone && pod.Spec.DNSConfig == nil:
		return ""
	}
	if c := pod.Spec.DNSConfig; c != nil {
		servers = append(servers, c.Nameservers...)
		search = append(search, c.Searches...)
		for _, o := range c.Options {
			if _, ok := options[o.Name]; !ok {
				optOrder = append(optOrder, o.Name)
			}
			options[o.Name] = ""
			if o.Value != nil {
				options[o.Name] = *o.Value
			}
		}
	}
	return formatResolv(servers, search, options, optOrder)
}

func formatResolv(servers, search []string, options map[string]string, order []string) string {
	var b strings.Builder
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	var opts []string
	for _, k := range order {
		if v := options[k]; v != "" {
			opts = append(opts, k+":"+v)
		} else {
			opts = append(opts, k)
		}
	}
	if len(opts) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(opts, " "))
	}
	return b.String()
}
