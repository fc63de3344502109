package config

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/kube-proxy/config/v1alpha1"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/proxy"
)

func TestOptions(t *testing.T) {
	v4, v6 := corev1.IPv4Protocol, corev1.IPv6Protocol
	a := netip.MustParseAddr
	pfx := netip.MustParsePrefix
	nodeIPs := []netip.Addr{a("192.168.1.10"), a("fd00::10"), a("10.0.0.5")}
	tests := []struct {
		name   string
		mutate func(*v1alpha1.KubeProxyConfiguration)
		family corev1.IPFamily
		want   proxy.Options
	}{
		{"defaults", func(*v1alpha1.KubeProxyConfiguration) {}, v4,
			proxy.Options{MasqueradeBit: 14, LocalhostNodePorts: true}},
		{"cluster CIDRs of the family", func(c *v1alpha1.KubeProxyConfiguration) {
			c.ClusterCIDR = "10.244.0.0/16,fd00:10:244::/56"
		}, v6, proxy.Options{ClusterCIDRs: []netip.Prefix{pfx("fd00:10:244::/56")}, MasqueradeBit: 14}},
		{"no detection outside ClusterCIDR mode", func(c *v1alpha1.KubeProxyConfiguration) {
			c.ClusterCIDR, c.DetectLocalMode = "10.244.0.0/16", LocalModeNodeCIDR
		}, v4, proxy.Options{MasqueradeBit: 14, LocalhostNodePorts: true}},
		{"iptables masquerade", func(c *v1alpha1.KubeProxyConfiguration) {
			c.IPTables.MasqueradeAll, c.IPTables.MasqueradeBit = true, ptr.To[int32](3)
		}, v4, proxy.Options{MasqueradeAll: true, MasqueradeBit: 3, LocalhostNodePorts: true}},
		{"nftables uses its own section and primary", func(c *v1alpha1.KubeProxyConfiguration) {
			c.Mode, c.NFTables.MasqueradeAll, c.NFTables.MasqueradeBit = ModeNFTables, true, ptr.To[int32](5)
		}, v4, proxy.Options{MasqueradeAll: true, MasqueradeBit: 5, NodePortAddresses: []netip.Addr{a("192.168.1.10")}}},
		{"primary", func(c *v1alpha1.KubeProxyConfiguration) { c.NodePortAddresses = []string{"primary"} }, v6,
			proxy.Options{MasqueradeBit: 14, NodePortAddresses: []netip.Addr{a("fd00::10")}}},
		{"CIDRs select node IPs", func(c *v1alpha1.KubeProxyConfiguration) {
			c.NodePortAddresses = []string{"10.0.0.0/8", "192.168.0.0/16", "fd00::/8"}
		}, v4, proxy.Options{MasqueradeBit: 14, NodePortAddresses: []netip.Addr{a("10.0.0.5"), a("192.168.1.10")}}},
		{"CIDRs of the other family only", func(c *v1alpha1.KubeProxyConfiguration) { c.NodePortAddresses = []string{"fd00::/8"} }, v4,
			proxy.Options{MasqueradeBit: 14, NodePortAddresses: []netip.Addr{}}},
		{"zero CIDR means all", func(c *v1alpha1.KubeProxyConfiguration) { c.NodePortAddresses = []string{"0.0.0.0/0"} }, v4,
			proxy.Options{MasqueradeBit: 14, LocalhostNodePorts: true}},
		{"loopback CIDR keeps localhost NodePorts", func(c *v1alpha1.KubeProxyConfiguration) {
			c.NodePortAddresses = []string{"127.0.0.0/8", "192.168.1.0/24"}
		}, v4, proxy.Options{MasqueradeBit: 14, NodePortAddresses: []netip.Addr{a("192.168.1.10")}, LocalhostNodePorts: true}},
		{"localhostNodePorts off", func(c *v1alpha1.KubeProxyConfiguration) { c.IPTables.LocalhostNodePorts = ptr.To(false) }, v4,
			proxy.Options{MasqueradeBit: 14}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(c)
			got, err := Options(c, tt.family, nodeIPs)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, cmp.Comparer(func(x, y netip.Addr) bool { return x == y }),
				cmp.Comparer(func(x, y netip.Prefix) bool { return x == y })); d != "" {
				t.Errorf("Options (-want +got):\n%s", d)
			}
		})
	}
}
