package config

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/kube-proxy/config/v1alpha1"
	"k8s.io/utils/ptr"
)

func TestValidate(t *testing.T) {
	neg := metav1.Duration{Duration: -time.Second}
	tests := []struct {
		name   string
		mutate func(*v1alpha1.KubeProxyConfiguration)
		want   []string
	}{
		{"defaults are valid", func(*v1alpha1.KubeProxyConfiguration) {}, nil},
		{"userspace mode", func(c *v1alpha1.KubeProxyConfiguration) { c.Mode = ModeUserspace }, nil},
		{"bad mode", func(c *v1alpha1.KubeProxyConfiguration) { c.Mode = "kernelspace" },
			[]string{`mode: Invalid value: "kernelspace": must be iptables, ipvs, nftables, userspace or blank (blank means the best-available proxy [currently iptables])`}},
		{"iptables masqueradeBit", func(c *v1alpha1.KubeProxyConfiguration) { c.IPTables.MasqueradeBit = ptr.To[int32](40) },
			[]string{"iptables.masqueradeBit: Invalid value: 40: must be within the range [0, 31]"}},
		{"nftables masqueradeBit", func(c *v1alpha1.KubeProxyConfiguration) {
			c.Mode, c.NFTables.MasqueradeBit = ModeNFTables, ptr.To[int32](-1)
		}, []string{"nftables.masqueradeBit: Invalid value: -1: must be within the range [0, 31]"}},
		{"minSyncPeriod above syncPeriod", func(c *v1alpha1.KubeProxyConfiguration) { c.IPTables.MinSyncPeriod.Duration = time.Minute },
			[]string{`iptables.syncPeriod: Invalid value: "1m0s": must be greater than or equal to iptables.minSyncPeriod`}},
		{"negative periods", func(c *v1alpha1.KubeProxyConfiguration) { c.IPTables.SyncPeriod, c.IPTables.MinSyncPeriod = neg, neg },
			[]string{`iptables.syncPeriod: Invalid value: "-1s": must be greater than 0`,
				`iptables.minSyncPeriod: Invalid value: "-1s": must be greater than or equal to 0`}},
		{"ipvs scheduler", func(c *v1alpha1.KubeProxyConfiguration) { c.Mode, c.IPVS.Scheduler = ModeIPVS, "fastest" },
			[]string{`ipvs.scheduler: Invalid value: "fastest": must be in [rr wrr lc wlc lblc lblcr sh dh sed nq mh], blank means the default algorithm method (currently rr)`}},
		{"ipvs section ignored in iptables mode", func(c *v1alpha1.KubeProxyConfiguration) { c.IPVS.Scheduler = "fastest" }, nil},
		{"ipvs excludeCIDRs", func(c *v1alpha1.KubeProxyConfiguration) {
			c.Mode, c.IPVS.ExcludeCIDRs = ModeIPVS, []string{"10.0.0.0/8", "x"}
		},
			[]string{`ipvs.excludeCIDRs[1]: Invalid value: "x": must be a valid CIDR`}},
		{"conntrack", func(c *v1alpha1.KubeProxyConfiguration) {
			c.Conntrack.MaxPerCore, c.Conntrack.TCPEstablishedTimeout, c.Conntrack.UDPTimeout = ptr.To[int32](-1), &neg, neg
		}, []string{"conntrack.maxPerCore: Invalid value: -1: must be greater than or equal to 0",
			`conntrack.tcpEstablishedTimeout: Invalid value: "-1s": must be greater than or equal to 0`,
			`conntrack.udpTimeout: Invalid value: "-1s": must be greater than or equal to 0`}},
		{"bindAddress", func(c *v1alpha1.KubeProxyConfiguration) { c.BindAddress = "0.0.0" },
			[]string{`bindAddress: Invalid value: "0.0.0": not a valid textual representation of an IP address`}},
		{"healthzBindAddress without port", func(c *v1alpha1.KubeProxyConfiguration) { c.HealthzBindAddress = "localhost" },
			[]string{`healthzBindAddress: Invalid value: "localhost": must be IP:port`}},
		{"metricsBindAddress bad host and port", func(c *v1alpha1.KubeProxyConfiguration) { c.MetricsBindAddress = "localhost:99999" },
			[]string{`metricsBindAddress: Invalid value: "localhost": must be a valid IP`,
				`metricsBindAddress: Invalid value: "99999": must be a valid port`}},
		{"dual-stack clusterCIDR", func(c *v1alpha1.KubeProxyConfiguration) { c.ClusterCIDR = "10.244.0.0/16,fd00:10:244::/56" }, nil},
		{"two IPv4 clusterCIDRs", func(c *v1alpha1.KubeProxyConfiguration) { c.ClusterCIDR = "10.244.0.0/16,10.245.0.0/16" },
			[]string{`clusterCIDR: Invalid value: "10.244.0.0/16,10.245.0.0/16": must be a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)`}},
		{"three clusterCIDRs", func(c *v1alpha1.KubeProxyConfiguration) { c.ClusterCIDR = "10.0.0.0/8,fd00::/8,11.0.0.0/8" },
			[]string{`clusterCIDR: Invalid value: "10.0.0.0/8,fd00::/8,11.0.0.0/8": only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)`}},
		{"bad clusterCIDR", func(c *v1alpha1.KubeProxyConfiguration) { c.ClusterCIDR = "10.244.0.0" },
			[]string{`clusterCIDR: Invalid value: "10.244.0.0": must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)`}},
		{"nodePortAddresses primary", func(c *v1alpha1.KubeProxyConfiguration) { c.NodePortAddresses = []string{"primary"} }, nil},
		{"nodePortAddresses primary and CIDR", func(c *v1alpha1.KubeProxyConfiguration) { c.NodePortAddresses = []string{"10.0.0.0/8", "primary"} },
			[]string{`nodePortAddresses[1]: Invalid value: "primary": can't use both 'primary' and CIDRs`}},
		{"nodePortAddresses bad CIDR", func(c *v1alpha1.KubeProxyConfiguration) { c.NodePortAddresses = []string{"10.0.0.1"} },
			[]string{`nodePortAddresses[0]: Invalid value: "10.0.0.1": must be a valid CIDR`}},
		{"detectLocalMode", func(c *v1alpha1.KubeProxyConfiguration) { c.DetectLocalMode = "PodCIDR" },
			[]string{`detectLocalMode: Unsupported value: "PodCIDR": supported values: "ClusterCIDR", "NodeCIDR", "BridgeInterface", "InterfaceNamePrefix", ""`}},
		{"BridgeInterface needs a name", func(c *v1alpha1.KubeProxyConfiguration) { c.DetectLocalMode = LocalModeBridgeInterface },
			[]string{`detectLocal.bridgeInterface: Invalid value: "": must not be empty`}},
		{"oomScoreAdj", func(c *v1alpha1.KubeProxyConfiguration) { c.OOMScoreAdj = ptr.To[int32](2000) },
			[]string{"oomScoreAdj: Invalid value: 2000: must be within the range [-1000, 1000]"}},
		{"portRange", func(c *v1alpha1.KubeProxyConfiguration) { c.PortRange = "a-b" },
			[]string{`portRange: Invalid value: "a-b": must be a valid port range (e.g. 300-2000)`}},
		{"burst", func(c *v1alpha1.KubeProxyConfiguration) { c.ClientConnection.Burst = -1 },
			[]string{"clientConnection.burst: Invalid value: -1: must be greater than or equal to 0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(c)
			var got []string
			for _, e := range Validate(c) {
				got = append(got, e.Error())
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Validate (-want +got):\n%s", d)
			}
		})
	}
}
