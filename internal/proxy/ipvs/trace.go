package ipvs

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// ReadTracer reads back what k holds into a packet tracer: the nat and
// filter tables (iptables-save), every virtual service with its real
// servers of weight above 0 (those a new connection may be scheduled to),
// kube-proxy's ipsets of family fam, and the addresses bound to
// kube-ipvs0. nodeIPs are the node's own addresses.
func ReadTracer(ctx context.Context, k Kernel, fam corev1.IPFamily, nodeIPs []netip.Addr) (*tracer.IPVS, error) {
	var save strings.Builder
	for _, table := range []string{"nat", "filter"} {
		out, err := k.IPTables.Run(ctx, k.Tools.Save, []string{"-t", table}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s -t %s: %w", k.Tools.Save, table, err)
		}
		save.Write(out)
	}
	svcs, err := readVirtuals(k.IPVS)
	if err != nil {
		return nil, err
	}
	sets := map[string][]string{}
	for _, s := range setsFor(fam) {
		if sets[s.Name], err = k.Sets.Entries(s.Name); err != nil {
			return nil, fmt.Errorf("ipset %s: %w", s.Name, err)
		}
	}
	bound, err := k.Links.Addrs(DummyDevice)
	if err != nil {
		return nil, fmt.Errorf("addresses of %s: %w", DummyDevice, err)
	}
	return tracer.NewIPVS(save.String(), svcs, sets, nodeIPs, bound)
}

// readVirtuals lists the virtual services with their schedulable real
// servers.
func readVirtuals(v IPVS) ([]tracer.IPVSService, error) {
	svcs, err := v.Services()
	if err != nil {
		return nil, fmt.Errorf("ipvs services: %w", err)
	}
	var out []tracer.IPVSService
	for _, s := range svcs {
		ds, err := v.Destinations(s)
		if err != nil {
			return nil, fmt.Errorf("real servers of %s: %w", s.Key(), err)
		}
		ts := tracer.IPVSService{Protocol: strings.ToLower(s.Protocol), Addr: s.Address, Port: int32(s.Port)}
		for _, d := range ds {
			if d.Weight > 0 {
				ts.Dests = append(ts.Dests, netip.AddrPortFrom(d.Address, d.Port))
			}
		}
		out = append(out, ts)
	}
	return out, nil
}
