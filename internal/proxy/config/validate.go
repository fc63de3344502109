package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/kube-proxy/config/v1alpha1"
)

// validateErr is Validate as one error reading like
// "invalid configuration: iptables.masqueradeBit: Invalid value: ...".
func validateErr(c *v1alpha1.KubeProxyConfiguration) error {
	if errs := Validate(c); len(errs) > 0 {
		return fmt.Errorf("invalid configuration: %w", errs.ToAggregate())
	}
	return nil
}

// Validate checks a defaulted configuration. Field paths are those of the
// file (iptables.masqueradeBit); messages are upstream's
// (pkg/proxy/apis/config/validation).
func Validate(c *v1alpha1.KubeProxyConfiguration) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateMode(c.Mode, field.NewPath("mode"))...)
	errs = append(errs, validateIPTables(&c.IPTables, field.NewPath("iptables"))...)
	switch c.Mode {
	case ModeNFTables:
		errs = append(errs, validateNFTables(&c.NFTables, field.NewPath("nftables"))...)
	case ModeIPVS:
		errs = append(errs, validateIPVS(&c.IPVS, field.NewPath("ipvs"))...)
	}
	errs = append(errs, validateConntrack(&c.Conntrack, field.NewPath("conntrack"))...)
	errs = append(errs, validateAddresses(c)...)
	errs = append(errs, validateClusterCIDR(c.ClusterCIDR, field.NewPath("clusterCIDR"))...)
	errs = append(errs, validateNodePortAddresses(c.NodePortAddresses, field.NewPath("nodePortAddresses"))...)
	errs = append(errs, validateDetectLocal(c)...)
	errs = append(errs, validateMisc(c)...)
	return errs
}

func validateMode(mode v1alpha1.ProxyMode, p *field.Path) field.ErrorList {
	switch mode {
	case "", ModeIPTables, ModeIPVS, ModeNFTables, ModeUserspace:
		return nil
	}
	return field.ErrorList{field.Invalid(p, string(mode),
		"must be iptables, ipvs, nftables, userspace or blank (blank means the best-available proxy [currently iptables])")}
}

func validateIPTables(c *v1alpha1.KubeProxyIPTablesConfiguration, p *field.Path) field.ErrorList {
	errs := validateMasqueradeBit(c.MasqueradeBit, p.Child("masqueradeBit"))
	return append(errs, validateSyncPeriods(c.SyncPeriod, c.MinSyncPeriod, p)...)
}

func validateNFTables(c *v1alpha1.KubeProxyNFTablesConfiguration, p *field.Path) field.ErrorList {
	errs := validateMasqueradeBit(c.MasqueradeBit, p.Child("masqueradeBit"))
	return append(errs, validateSyncPeriods(c.SyncPeriod, c.MinSyncPeriod, p)...)
}

func validateIPVS(c *v1alpha1.KubeProxyIPVSConfiguration, p *field.Path) field.ErrorList {
	errs := validateSyncPeriods(c.SyncPeriod, c.MinSyncPeriod, p)
	if c.Scheduler != "" && !contains(IPVSSchedulers(), c.Scheduler) {
		errs = append(errs, field.Invalid(p.Child("scheduler"), c.Scheduler, fmt.Sprintf(
			"must be in %v, blank means the default algorithm method (currently rr)", IPVSSchedulers())))
	}
	errs = append(errs, nonNegative(c.TCPTimeout, p.Child("tcpTimeout"))...)
	errs = append(errs, nonNegative(c.TCPFinTimeout, p.Child("tcpFinTimeout"))...)
	errs = append(errs, nonNegative(c.UDPTimeout, p.Child("udpTimeout"))...)
	for i, s := range c.ExcludeCIDRs {
		if _, err := netip.ParsePrefix(s); err != nil {
			errs = append(errs, field.Invalid(p.Child("excludeCIDRs").Index(i), s, "must be a valid CIDR"))
		}
	}
	return errs
}

func validateMasqueradeBit(bit *int32, p *field.Path) field.ErrorList {
	if bit != nil && (*bit < 0 || *bit > 31) {
		return field.ErrorList{field.Invalid(p, *bit, "must be within the range [0, 31]")}
	}
	return nil
}

func validateSyncPeriods(sync, minSync metav1.Duration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if sync.Duration <= 0 {
		errs = append(errs, field.Invalid(p.Child("syncPeriod"), sync.Duration.String(), "must be greater than 0"))
	}
	if minSync.Duration < 0 {
		errs = append(errs, field.Invalid(p.Child("minSyncPeriod"), minSync.Duration.String(), "must be greater than or equal to 0"))
	}
	if minSync.Duration > sync.Duration {
		errs = append(errs, field.Invalid(p.Child("syncPeriod"), minSync.Duration.String(),
			fmt.Sprintf("must be greater than or equal to %s", p.Child("minSyncPeriod"))))
	}
	return errs
}

func validateConntrack(c *v1alpha1.KubeProxyConntrackConfiguration, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.MaxPerCore != nil && *c.MaxPerCore < 0 {
		errs = append(errs, field.Invalid(p.Child("maxPerCore"), *c.MaxPerCore, "must be greater than or equal to 0"))
	}
	if c.Min != nil && *c.Min < 0 {
		errs = append(errs, field.Invalid(p.Child("min"), *c.Min, "must be greater than or equal to 0"))
	}
	if c.TCPEstablishedTimeout != nil {
		errs = append(errs, nonNegative(*c.TCPEstablishedTimeout, p.Child("tcpEstablishedTimeout"))...)
	}
	if c.TCPCloseWaitTimeout != nil {
		errs = append(errs, nonNegative(*c.TCPCloseWaitTimeout, p.Child("tcpCloseWaitTimeout"))...)
	}
	errs = append(errs, nonNegative(c.UDPTimeout, p.Child("udpTimeout"))...)
	return append(errs, nonNegative(c.UDPStreamTimeout, p.Child("udpStreamTimeout"))...)
}

func nonNegative(d metav1.Duration, p *field.Path) field.ErrorList {
	if d.Duration < 0 {
		return field.ErrorList{field.Invalid(p, d.Duration.String(), "must be greater than or equal to 0")}
	}
	return nil
}

func validateAddresses(c *v1alpha1.KubeProxyConfiguration) field.ErrorList {
	var errs field.ErrorList
	if _, err := netip.ParseAddr(c.BindAddress); err != nil {
		errs = append(errs, field.Invalid(field.NewPath("bindAddress"), c.BindAddress,
			"not a valid textual representation of an IP address"))
	}
	if c.HealthzBindAddress != "" {
		errs = append(errs, validateHostPort(c.HealthzBindAddress, field.NewPath("healthzBindAddress"))...)
	}
	if c.MetricsBindAddress != "" {
		errs = append(errs, validateHostPort(c.MetricsBindAddress, field.NewPath("metricsBindAddress"))...)
	}
	return errs
}

func validateHostPort(input string, p *field.Path) field.ErrorList {
	host, port, err := net.SplitHostPort(input)
	if err != nil {
		return field.ErrorList{field.Invalid(p, input, "must be IP:port")}
	}
	var errs field.ErrorList
	if _, err := netip.ParseAddr(host); err != nil {
		errs = append(errs, field.Invalid(p, host, "must be a valid IP"))
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		errs = append(errs, field.Invalid(p, port, "must be a valid port"))
	}
	return errs
}

func validateClusterCIDR(s string, p *field.Path) field.ErrorList {
	if s == "" {
		return nil
	}
	cidrs := strings.Split(s, ",")
	switch {
	case len(cidrs) > 2:
		return field.ErrorList{field.Invalid(p, s, "only one CIDR allowed or a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)")}
	case len(cidrs) == 2:
		a, errA := netip.ParsePrefix(strings.TrimSpace(cidrs[0]))
		b, errB := netip.ParsePrefix(strings.TrimSpace(cidrs[1]))
		if errA != nil || errB != nil || a.Addr().Is4() == b.Addr().Is4() {
			return field.ErrorList{field.Invalid(p, s, "must be a valid DualStack CIDR (e.g. 10.100.0.0/16,fde4:8dba:82e1::/48)")}
		}
	default:
		if _, err := netip.ParsePrefix(strings.TrimSpace(s)); err != nil {
			return field.ErrorList{field.Invalid(p, s, "must be a valid CIDR block (e.g. 10.100.0.0/16 or fde4:8dba:82e1::/48)")}
		}
	}
	return nil
}

func validateNodePortAddresses(addrs []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, s := range addrs {
		if s == NodePortAddressesPrimary {
			if i != 0 || len(addrs) != 1 {
				errs = append(errs, field.Invalid(p.Index(i), s, "can't use both 'primary' and CIDRs"))
			}
			break
		}
		if _, err := netip.ParsePrefix(s); err != nil {
			errs = append(errs, field.Invalid(p.Index(i), s, "must be a valid CIDR"))
		}
	}
	return errs
}

func validateDetectLocal(c *v1alpha1.KubeProxyConfiguration) field.ErrorList {
	p := field.NewPath("detectLocalMode")
	modes := []string{string(LocalModeClusterCIDR), string(LocalModeNodeCIDR),
		string(LocalModeBridgeInterface), string(LocalModeInterfaceNamePrefix), ""}
	if !contains(modes, string(c.DetectLocalMode)) {
		return field.ErrorList{field.NotSupported(p, string(c.DetectLocalMode), modes)}
	}
	dl := field.NewPath("detectLocal")
	switch {
	case c.DetectLocalMode == LocalModeBridgeInterface && c.DetectLocal.BridgeInterface == "":
		return field.ErrorList{field.Invalid(dl.Child("bridgeInterface"), "", "must not be empty")}
	case c.DetectLocalMode == LocalModeInterfaceNamePrefix && c.DetectLocal.InterfaceNamePrefix == "":
		return field.ErrorList{field.Invalid(dl.Child("interfaceNamePrefix"), "", "must not be empty")}
	}
	return nil
}

func validateMisc(c *v1alpha1.KubeProxyConfiguration) field.ErrorList {
	var errs field.ErrorList
	if c.ClientConnection.Burst < 0 {
		errs = append(errs, field.Invalid(field.NewPath("clientConnection", "burst"), c.ClientConnection.Burst,
			"must be greater than or equal to 0"))
	}
	if c.OOMScoreAdj != nil && (*c.OOMScoreAdj < -1000 || *c.OOMScoreAdj > 1000) {
		errs = append(errs, field.Invalid(field.NewPath("oomScoreAdj"), *c.OOMScoreAdj, "must be within the range [-1000, 1000]"))
	}
	if c.ConfigSyncPeriod.Duration <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("configSyncPeriod"), c.ConfigSyncPeriod.Duration.String(), "must be greater than 0"))
	}
	if _, err := utilnet.ParsePortRange(c.PortRange); c.PortRange != "" && err != nil {
		errs = append(errs, field.Invalid(field.NewPath("portRange"), c.PortRange, "must be a valid port range (e.g. 300-2000)"))
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
