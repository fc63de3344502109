package config

import (
	"net"
	"net/netip"
	"strconv"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kube-proxy/config/v1alpha1"
	"k8s.io/utils/ptr"
)

// Upstream's ports and defaults (pkg/cluster/ports, pkg/kubelet/qos and
// pkg/proxy/apis/config/v1alpha1/defaults.go).
const (
	HealthzPort        = 10256
	MetricsPort        = 10249
	defaultOOMScoreAdj = -999
	defaultMasqBit     = 14
	defaultSyncPeriod  = 30 * time.Second
	defaultMinSync     = 1 * time.Second
	defaultConfigSync  = 15 * time.Minute
	defaultContentType = "application/vnd.kubernetes.protobuf"
)

// Default returns a configuration with every field at upstream's default.
func Default() *v1alpha1.KubeProxyConfiguration {
	c := &v1alpha1.KubeProxyConfiguration{}
	SetDefaults(c)
	return c
}

// SetDefaults fills the unset fields of c with upstream's defaults; set
// fields are kept. It is idempotent. detectLocalMode becomes ClusterCIDR
// when clusterCIDR is set (kube-proxy treats an empty mode that way); mode
// "" (iptables) and ipvs.scheduler "" (rr) stay empty, as upstream keeps
// them.
func SetDefaults(c *v1alpha1.KubeProxyConfiguration) {
	c.APIVersion = v1alpha1.SchemeGroupVersion.String()
	c.Kind = Kind
	setDefaultAddresses(c)
	if c.OOMScoreAdj == nil {
		c.OOMScoreAdj = ptr.To[int32](defaultOOMScoreAdj)
	}
	setDefaultIPTables(&c.IPTables)
	setDefaultNFTables(&c.NFTables)
	defaultDuration(&c.IPVS.SyncPeriod, defaultSyncPeriod)
	setDefaultConntrack(&c.Conntrack)
	defaultDuration(&c.ConfigSyncPeriod, defaultConfigSync)
	setDefaultClientConnection(c)
	if c.FeatureGates == nil {
		c.FeatureGates = map[string]bool{}
	}
	if c.DetectLocalMode == "" && c.ClusterCIDR != "" {
		c.DetectLocalMode = LocalModeClusterCIDR
	}
	logsapi.SetRecommendedLoggingConfiguration(&c.Logging)
}

func setDefaultAddresses(c *v1alpha1.KubeProxyConfiguration) {
	if c.BindAddress == "" {
		c.BindAddress = "0.0.0.0"
	}
	healthzHost, metricsHost := "0.0.0.0", "127.0.0.1"
	if a, err := netip.ParseAddr(c.BindAddress); err == nil && a.Is6() && !a.Is4In6() {
		healthzHost, metricsHost = "::", "::1"
	}
	c.HealthzBindAddress = defaultHostPort(c.HealthzBindAddress, healthzHost, HealthzPort)
	c.MetricsBindAddress = defaultHostPort(c.MetricsBindAddress, metricsHost, MetricsPort)
}

// defaultHostPort is addr, host:port when addr is empty, and addr:port when
// addr is a bare IP (upstream's AppendPortIfNeeded).
func defaultHostPort(addr, host string, port int) string {
	if addr == "" {
		return net.JoinHostPort(host, strconv.Itoa(port))
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr
	}
	if ip, err := netip.ParseAddr(addr); err == nil {
		return net.JoinHostPort(ip.String(), strconv.Itoa(port))
	}
	return addr
}

func setDefaultIPTables(c *v1alpha1.KubeProxyIPTablesConfiguration) {
	if c.MasqueradeBit == nil {
		c.MasqueradeBit = ptr.To[int32](defaultMasqBit)
	}
	if c.LocalhostNodePorts == nil {
		c.LocalhostNodePorts = ptr.To(true)
	}
	defaultDuration(&c.SyncPeriod, defaultSyncPeriod)
	defaultDuration(&c.MinSyncPeriod, defaultMinSync)
}

func setDefaultNFTables(c *v1alpha1.KubeProxyNFTablesConfiguration) {
	if c.MasqueradeBit == nil {
		c.MasqueradeBit = ptr.To[int32](defaultMasqBit)
	}
	defaultDuration(&c.SyncPeriod, defaultSyncPeriod)
	defaultDuration(&c.MinSyncPeriod, defaultMinSync)
}

func setDefaultConntrack(c *v1alpha1.KubeProxyConntrackConfiguration) {
	if c.MaxPerCore == nil {
		c.MaxPerCore = ptr.To[int32](32 * 1024)
	}
	if c.Min == nil {
		c.Min = ptr.To[int32](128 * 1024)
	}
	if c.TCPEstablishedTimeout == nil {
		c.TCPEstablishedTimeout = &metav1.Duration{Duration: 24 * time.Hour}
	}
	if c.TCPCloseWaitTimeout == nil {
		c.TCPCloseWaitTimeout = &metav1.Duration{Duration: time.Hour}
	}
	// udpTimeout and udpStreamTimeout stay 0s: leave the kernel's values.
}

func setDefaultClientConnection(c *v1alpha1.KubeProxyConfiguration) {
	cc := &c.ClientConnection
	if cc.ContentType == "" {
		cc.ContentType = defaultContentType
	}
	if cc.QPS == 0 {
		cc.QPS = 5
	}
	if cc.Burst == 0 {
		cc.Burst = 10
	}
}

func defaultDuration(d *metav1.Duration, def time.Duration) {
	if d.Duration == 0 {
		d.Duration = def
	}
}
