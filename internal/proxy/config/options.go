package config

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Options turns a validated configuration into the proxy.Options of one IP
// family on a node whose addresses of that family are nodeIPs (primary
// first):
//   - ClusterCIDRs: the clusterCIDR entries of the family, when
//     detectLocalMode is ClusterCIDR (or empty);
//   - MasqueradeAll, MasqueradeBit: from the nftables section in nftables
//     mode, else from the iptables section (ipvs and userspace use it too);
//   - NodePortAddresses: nil (every local address) when nodePortAddresses
//     is empty or holds a zero CIDR; the node's first IP for "primary"
//     (also nftables mode's default when empty, as upstream); else the
//     node IPs inside the CIDRs of the family, an empty non-nil slice when
//     none matches;
//   - LocalhostNodePorts: iptables.localhostNodePorts in iptables mode for
//     IPv4 when nodePortAddresses admits 127.0.0.1.
func Options(c *v1alpha1.KubeProxyConfiguration, family corev1.IPFamily, nodeIPs []netip.Addr) (proxy.Options, error) {
	var o proxy.Options
	cidrs, err := clusterCIDRs(c, family)
	if err != nil {
		return o, err
	}
	o.ClusterCIDRs = cidrs
	mode := EffectiveMode(c)
	masqBit := c.IPTables.MasqueradeBit
	o.MasqueradeAll = c.IPTables.MasqueradeAll
	if mode == ModeNFTables {
		masqBit, o.MasqueradeAll = c.NFTables.MasqueradeBit, c.NFTables.MasqueradeAll
	}
	o.MasqueradeBit = defaultMasqBit
	if masqBit != nil {
		o.MasqueradeBit = int(*masqBit)
	}
	specs := c.NodePortAddresses
	if mode == ModeNFTables && len(specs) == 0 {
		specs = []string{NodePortAddressesPrimary}
	}
	npa, loopback, err := nodePortAddresses(specs, family, nodeIPs)
	if err != nil {
		return o, err
	}
	o.NodePortAddresses = npa
	o.LocalhostNodePorts = mode == ModeIPTables && family == corev1.IPv4Protocol && loopback &&
		(c.IPTables.LocalhostNodePorts == nil || *c.IPTables.LocalhostNodePorts)
	return o, nil
}

func clusterCIDRs(c *v1alpha1.KubeProxyConfiguration, family corev1.IPFamily) ([]netip.Prefix, error) {
	if c.ClusterCIDR == "" || (c.DetectLocalMode != "" && c.DetectLocalMode != LocalModeClusterCIDR) {
		return nil, nil
	}
	var out []netip.Prefix
	for _, s := range strings.Split(c.ClusterCIDR, ",") {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("clusterCIDR %q: %w", s, err)
		}
		if proxy.Family(p.Addr()) == family {
			out = append(out, p.Masked())
		}
	}
	return out, nil
}

// nodePortAddresses resolves the nodePortAddresses entries for family; it
// also says whether they admit IPv4 loopback (for localhost NodePorts).
func nodePortAddresses(specs []string, family corev1.IPFamily, nodeIPs []netip.Addr) ([]netip.Addr, bool, error) {
	if len(specs) == 0 {
		return nil, true, nil
	}
	if specs[0] == NodePortAddressesPrimary {
		for _, ip := range nodeIPs {
			if proxy.Family(ip) == family {
				return []netip.Addr{ip}, false, nil
			}
		}
		return []netip.Addr{}, false, nil
	}
	out, loopback := []netip.Addr{}, false
	for _, s := range specs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, false, fmt.Errorf("nodePortAddresses %q: %w", s, err)
		}
		p = p.Masked()
		if p.Addr().Is4() && p.Contains(netip.AddrFrom4([4]byte{127, 0, 0, 1})) {
			loopback = true
		}
		if proxy.Family(p.Addr()) != family {
			continue
		}
		if p.Bits() == 0 {
			return nil, loopback, nil
		}
		for _, ip := range nodeIPs {
			if p.Contains(ip) && !containsAddr(out, ip) {
				out = append(out, ip)
			}
		}
	}
	return out, loopback, nil
}

func containsAddr(list []netip.Addr, a netip.Addr) bool {
	for _, b := range list {
		if a == b {
			return true
		}
	}
	return false
}

// SyncPeriods returns the minimum and full sync periods of c's mode: the
// nftables section in nftables mode, ipvs in ipvs mode, else iptables.
func SyncPeriods(c *v1alpha1.KubeProxyConfiguration) (minSync, sync time.Duration) {
	switch EffectiveMode(c) {
	case ModeNFTables:
		return c.NFTables.MinSyncPeriod.Duration, c.NFTables.SyncPeriod.Duration
	case ModeIPVS:
		return c.IPVS.MinSyncPeriod.Duration, c.IPVS.SyncPeriod.Duration
	}
	return c.IPTables.MinSyncPeriod.Duration, c.IPTables.SyncPeriod.Duration
}
