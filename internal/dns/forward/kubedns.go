package forward

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// maxKubeDNSUpstreams is kube-dns's limit on upstreamNameservers.
const maxKubeDNSUpstreams = 3

// ParseKubeDNSConfigMap reads the stubDomains and upstreamNameservers
// keys of a kube-system/kube-dns ConfigMap as kube-dns did: stubDomains
// is a JSON object of domain → list of servers, upstreamNameservers a
// JSON list of at most three servers, each server "ip" or "ip:port".
// Absent or blank keys give nil. Unlike kube-dns, domains may end in a
// dot and be in any case, and stub servers must be IP addresses (kube-dns
// let dnsmasq resolve host names; CoreDNS's forward refuses them too).
// Errors name the key.
func ParseKubeDNSConfigMap(data map[string]string) (stubDomains map[string][]string, upstreams []string, err error) {
	if stubDomains, err = parseStubDomains(data["stubDomains"]); err != nil {
		return nil, nil, fmt.Errorf("stubDomains: %w", err)
	}
	if upstreams, err = parseUpstreamNameservers(data["upstreamNameservers"]); err != nil {
		return nil, nil, fmt.Errorf("upstreamNameservers: %w", err)
	}
	return stubDomains, upstreams, nil
}

func parseStubDomains(value string) (map[string][]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	var stubs map[string][]string
	if err := json.Unmarshal([]byte(value), &stubs); err != nil {
		return nil, err
	}
	for domain, servers := range stubs {
		name := strings.ToLower(strings.TrimSuffix(domain, "."))
		if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
			return nil, fmt.Errorf("invalid domain name %q: %s", domain, strings.Join(errs, "; "))
		}
		if len(servers) == 0 {
			return nil, fmt.Errorf("domain %q: no nameservers", domain)
		}
		if _, err := parseServers(servers); err != nil {
			return nil, fmt.Errorf("domain %q: %w", domain, err)
		}
	}
	return stubs, nil
}

func parseUpstreamNameservers(value string) ([]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	var upstreams []string
	if err := json.Unmarshal([]byte(value), &upstreams); err != nil {
		return nil, err
	}
	if len(upstreams) > maxKubeDNSUpstreams {
		return nil, fmt.Errorf("%d entries, at most %d allowed", len(upstreams), maxKubeDNSUpstreams)
	}
	if _, err := parseServers(upstreams); err != nil {
		return nil, err
	}
	return upstreams, nil
}
