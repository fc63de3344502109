package config

import "k8s.io/kube-proxy/config/v1alpha1"

// The proxy modes the configuration accepts. "" means iptables, as
// upstream; userspace is svcplane's own (upstream removed it in v1.26).
const (
	ModeIPTables  v1alpha1.ProxyMode = "iptables"
	ModeIPVS      v1alpha1.ProxyMode = "ipvs"
	ModeNFTables  v1alpha1.ProxyMode = "nftables"
	ModeUserspace v1alpha1.ProxyMode = "userspace"
)

// The detectLocalMode values, as upstream spells them.
const (
	LocalModeClusterCIDR         v1alpha1.LocalMode = "ClusterCIDR"
	LocalModeNodeCIDR            v1alpha1.LocalMode = "NodeCIDR"
	LocalModeBridgeInterface     v1alpha1.LocalMode = "BridgeInterface"
	LocalModeInterfaceNamePrefix v1alpha1.LocalMode = "InterfaceNamePrefix"
)

// NodePortAddressesPrimary is the nodePortAddresses value meaning the
// node's primary address of each family.
const NodePortAddressesPrimary = "primary"

// Kind is the configuration's kind.
const Kind = "KubeProxyConfiguration"

// EffectiveMode is c's mode with "" resolved to iptables.
func EffectiveMode(c *v1alpha1.KubeProxyConfiguration) v1alpha1.ProxyMode {
	if c.Mode == "" {
		return ModeIPTables
	}
	return c.Mode
}

// IPVSSchedulers are the IPVS schedulers kube-proxy accepts.
func IPVSSchedulers() []string {
	return []string{"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "sh", "dh", "sed", "nq", "mh"}
}
