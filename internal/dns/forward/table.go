package forward

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// routeTable says which upstreams answer which names. It is immutable:
// updates build a new one.
type routeTable struct {
	defaults []*upstream
	stubs    []stubZone // most specific zone first
}

type stubZone struct {
	zone      string // lower case, fully qualified
	upstreams []*upstream
}

// route returns the upstreams for name: those of the most specific stub
// domain that contains it, else the default ones.
func (t *routeTable) route(name string) []*upstream {
	for _, s := range t.stubs {
		if dns.IsSubDomain(s.zone, name) {
			return s.upstreams
		}
	}
	return t.defaults
}

// SetUpstreams replaces the default upstreams; empty means the
// nameservers of the resolv.conf file. Upstreams kept keep their health.
func (f *Forwarder) SetUpstreams(upstreams []string) error {
	addrs, err := parseServers(upstreams)
	if err == nil && len(addrs) == 0 {
		addrs, err = readResolvConf(f.resolvConf)
	}
	if err != nil {
		return fmt.Errorf("set upstreams: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.defaults = addrs
	f.rebuild()
	return nil
}

// SetStubDomains replaces the stub domains: zone → its servers ("ip" or
// "ip:port").
func (f *Forwarder) SetStubDomains(stubs map[string][]string) error {
	parsed := make(map[string][]string, len(stubs))
	for zone, servers := range stubs {
		if _, ok := dns.IsDomainName(zone); !ok || zone == "" {
			return fmt.Errorf("stub domain %q: invalid domain name", zone)
		}
		addrs, err := parseServers(servers)
		if err == nil && len(addrs) == 0 {
			err = fmt.Errorf("no servers")
		}
		if err != nil {
			return fmt.Errorf("stub domain %q: %w", zone, err)
		}
		parsed[dns.CanonicalName(zone)] = addrs
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stubs = parsed
	f.rebuild()
	return nil
}

// rebuild publishes a route table for f.defaults and f.stubs, reusing the
// upstreams that stay and stopping the health checks of those that go.
// f.mu must be held.
func (f *Forwarder) rebuild() {
	used := map[string]bool{}
	get := func(addrs []string) []*upstream {
		list := make([]*upstream, 0, len(addrs))
		for _, a := range addrs {
			u := f.upstreams[a]
			if u == nil {
				u = &upstream{addr: a}
				u.ctx, u.stop = context.WithCancel(f.ctx)
				f.upstreams[a] = u
			}
			used[a] = true
			list = append(list, u)
		}
		return list
	}
	t := &routeTable{defaults: get(f.defaults)}
	for zone, addrs := range f.stubs {
		t.stubs = append(t.stubs, stubZone{zone: zone, upstreams: get(addrs)})
	}
	slices.SortFunc(t.stubs, func(a, b stubZone) int {
		if d := dns.CountLabel(b.zone) - dns.CountLabel(a.zone); d != 0 {
			return d
		}
		return strings.Compare(a.zone, b.zone)
	})
	for a, u := range f.upstreams {
		if !used[a] {
			u.stop()
			delete(f.upstreams, a)
		}
	}
	f.table.Store(t)
}

// parseServers turns "ip" and "ip:port" into "ip:port" addresses, port 53
// by default, without duplicates.
func parseServers(servers []string) ([]string, error) {
	if len(servers) > MaxUpstreams {
		return nil, fmt.Errorf("%d servers, more than %d", len(servers), MaxUpstreams)
	}
	var addrs []string
	for _, s := range servers {
		ap, err := parseServer(s)
		if err != nil {
			return nil, err
		}
		if a := ap.String(); !slices.Contains(addrs, a) {
			addrs = append(addrs, a)
		}
	}
	return addrs, nil
}

func parseServer(s string) (netip.AddrPort, error) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(ip, 53), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("invalid server %q: want ip or ip:port", s)
	}
	return ap, nil
}

// readResolvConf returns the nameservers of a resolv.conf file.
func readResolvConf(path string) ([]string, error) {
	conf, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	servers := make([]string, 0, len(conf.Servers))
	for _, s := range conf.Servers {
		servers = append(servers, net.JoinHostPort(s, conf.Port))
	}
	addrs, err := parseServers(servers)
	if err == nil && len(addrs) == 0 {
		err = fmt.Errorf("no nameserver")
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return addrs, nil
}
