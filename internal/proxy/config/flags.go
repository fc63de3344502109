package config

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	logsapi "k8s.io/component-base/logs/api/v1"
	"k8s.io/kube-proxy/config/v1alpha1"
	"k8s.io/utils/ptr"
)

type cfg = v1alpha1.KubeProxyConfiguration

// Flags are kube-proxy's command-line flags, bound on a flag.FlagSet, so
// that a kube-proxy command line from a tutorial works. A flag the user set
// overrides the file's value; flags left alone change nothing.
type Flags struct {
	// ConfigFile is --config; empty means upstream's defaults.
	ConfigFile string
	// Cleanup is --cleanup: remove every rule of every mode and exit.
	Cleanup bool
	// Verbosity is --v.
	Verbosity int
	// WriteConfigTo is --write-config-to: write the resolved configuration
	// there (see Marshal) and exit.
	WriteConfigTo string

	fs    *flag.FlagSet
	apply map[string]func(*cfg)
}

// NewFlags binds kube-proxy's flags on fs.
func NewFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{fs: fs, apply: map[string]func(*cfg){}}
	fs.StringVar(&f.ConfigFile, "config", "", "The path to the configuration file (a KubeProxyConfiguration).")
	fs.BoolVar(&f.Cleanup, "cleanup", false, "If true cleanup iptables, nftables and ipvs rules and exit.")
	fs.IntVar(&f.Verbosity, "v", 0, "Log level verbosity (4 or more: debug).")
	f.apply["v"] = func(c *cfg) { c.Logging.Verbosity = logsapi.VerbosityLevel(max(f.Verbosity, 0)) }
	fs.Bool("logtostderr", true, "Accepted for compatibility; logs always go to stderr.")
	fs.Bool("alsologtostderr", false, "Accepted for compatibility; ignored.")
	fs.StringVar(&f.WriteConfigTo, "write-config-to", "", "If set, write the configuration to this file and exit.")
	f.bindGeneral()
	f.bindMisc()
	f.bindModes()
	f.bindIPVS()
	f.bindConntrack()
	return f
}

func (f *Flags) bindGeneral() {
	f.str("proxy-mode", "", "Which proxy mode to use: iptables, nftables, ipvs or userspace (blank: iptables).",
		func(c *cfg, v string) { c.Mode = v1alpha1.ProxyMode(v) })
	f.str("cluster-cidr", "", "The CIDR range of the pods in the cluster (comma-separated for dual stack).",
		func(c *cfg, v string) { c.ClusterCIDR = v })
	f.str("kubeconfig", "", "Path to a kubeconfig file with authorization information.",
		func(c *cfg, v string) { c.ClientConnection.Kubeconfig = v })
	f.str("hostname-override", "", "If non-empty, will be used as the name of the Node that kube-proxy is running on.",
		func(c *cfg, v string) { c.HostnameOverride = v })
	f.str("bind-address", "0.0.0.0", "The IP address for the proxy server to serve on.",
		func(c *cfg, v string) { c.BindAddress = v })
	f.str("healthz-bind-address", "0.0.0.0:10256", "The IP address with port for the health check server to serve on.",
		func(c *cfg, v string) { c.HealthzBindAddress = v })
	f.str("metrics-bind-address", "127.0.0.1:10249", "The IP address with port for the metrics server to serve on.",
		func(c *cfg, v string) { c.MetricsBindAddress = v })
	f.str("nodeport-addresses", "", "A list of CIDR ranges that contain valid node IPs, or 'primary'.",
		func(c *cfg, v string) { c.NodePortAddresses = splitList(v) })
	f.str("detect-local-mode", "", "Mode to use to detect local traffic.",
		func(c *cfg, v string) { c.DetectLocalMode = v1alpha1.LocalMode(v) })
	f.integer("oom-score-adj", -999, "The oom-score-adj value for the kube-proxy process.",
		func(c *cfg, v int) { c.OOMScoreAdj = ptr.To(int32(v)) })
}

func (f *Flags) bindModes() {
	f.boolean("masquerade-all", false, "SNAT all traffic sent via Service cluster IPs.",
		func(c *cfg, v bool) { c.IPTables.MasqueradeAll, c.NFTables.MasqueradeAll = v, v })
	f.integer("iptables-masquerade-bit", 14, "The bit of the fwmark space to mark packets requiring SNAT (0-31).",
		func(c *cfg, v int) {
			c.IPTables.MasqueradeBit, c.NFTables.MasqueradeBit = ptr.To(int32(v)), ptr.To(int32(v))
		})
	f.boolean("iptables-localhost-nodeports", true, "Allow NodePort services on 127.0.0.1 (iptables mode, IPv4).",
		func(c *cfg, v bool) { c.IPTables.LocalhostNodePorts = ptr.To(v) })
	f.duration("iptables-sync-period", 30*time.Second, "The period at which rules are fully resynced (iptables and nftables modes).",
		func(c *cfg, v time.Duration) { c.IPTables.SyncPeriod, c.NFTables.SyncPeriod = dur(v), dur(v) })
	f.duration("iptables-min-sync-period", time.Second, "The minimum period between rule syncs (iptables and nftables modes).",
		func(c *cfg, v time.Duration) { c.IPTables.MinSyncPeriod, c.NFTables.MinSyncPeriod = dur(v), dur(v) })
}

func (f *Flags) bindIPVS() {
	f.duration("ipvs-sync-period", 30*time.Second, "The period at which IPVS rules are fully resynced.",
		func(c *cfg, v time.Duration) { c.IPVS.SyncPeriod = dur(v) })
	f.duration("ipvs-min-sync-period", 0, "The minimum period between IPVS rule syncs.",
		func(c *cfg, v time.Duration) { c.IPVS.MinSyncPeriod = dur(v) })
	f.str("ipvs-scheduler", "", "The IPVS scheduler (blank: rr).",
		func(c *cfg, v string) { c.IPVS.Scheduler = v })
	f.boolean("ipvs-strict-arp", false, "Enable strict ARP (arp_ignore 1, arp_announce 2).",
		func(c *cfg, v bool) { c.IPVS.StrictARP = v })
	f.str("ipvs-exclude-cidrs", "", "A comma-separated list of CIDRs IPVS cleanup must not touch.",
		func(c *cfg, v string) { c.IPVS.ExcludeCIDRs = splitList(v) })
}

func (f *Flags) bindMisc() {
	f.str("feature-gates", "", "Accepted for compatibility: key=value pairs recorded in featureGates.",
		func(c *cfg, v string) { c.FeatureGates = parseGates(v) })
	f.duration("config-sync-period", 15*time.Minute, "How often configuration from the apiserver is refreshed.",
		func(c *cfg, v time.Duration) { c.ConfigSyncPeriod = dur(v) })
	f.boolean("profiling", false, "Enable profiling via web interface host:port/debug/pprof/.",
		func(c *cfg, v bool) { c.EnableProfiling = v })
	f.str("port-range", "", "Accepted for compatibility (host port range); unused.",
		func(c *cfg, v string) { c.PortRange = v })
}

func (f *Flags) bindConntrack() {
	f.integer("conntrack-max-per-core", 32768, "Maximum number of NAT connections to track per CPU core (0 to leave as-is).",
		func(c *cfg, v int) { c.Conntrack.MaxPerCore = ptr.To(int32(v)) })
	f.integer("conntrack-min", 131072, "Minimum number of conntrack entries to allocate.",
		func(c *cfg, v int) { c.Conntrack.Min = ptr.To(int32(v)) })
	f.duration("conntrack-tcp-timeout-established", 24*time.Hour, "Idle timeout for established TCP connections.",
		func(c *cfg, v time.Duration) { c.Conntrack.TCPEstablishedTimeout = ptr.To(dur(v)) })
	f.duration("conntrack-tcp-timeout-close-wait", time.Hour, "NAT timeout for TCP connections in the CLOSE_WAIT state.",
		func(c *cfg, v time.Duration) { c.Conntrack.TCPCloseWaitTimeout = ptr.To(dur(v)) })
	f.boolean("conntrack-tcp-be-liberal", false, "Do not mark out-of-window TCP packets INVALID.",
		func(c *cfg, v bool) { c.Conntrack.TCPBeLiberal = v })
	f.duration("conntrack-udp-timeout", 0, "Idle timeout for UNREPLIED UDP connections (0 to leave as-is).",
		func(c *cfg, v time.Duration) { c.Conntrack.UDPTimeout = dur(v) })
	f.duration("conntrack-udp-timeout-stream", 0, "Idle timeout for ASSURED UDP connections (0 to leave as-is).",
		func(c *cfg, v time.Duration) { c.Conntrack.UDPStreamTimeout = dur(v) })
}

func (f *Flags) str(name, def, usage string, set func(*cfg, string)) {
	p := f.fs.String(name, def, usage)
	f.apply[name] = func(c *cfg) { set(c, *p) }
}

func (f *Flags) boolean(name string, def bool, usage string, set func(*cfg, bool)) {
	p := f.fs.Bool(name, def, usage)
	f.apply[name] = func(c *cfg) { set(c, *p) }
}

func (f *Flags) integer(name string, def int, usage string, set func(*cfg, int)) {
	p := f.fs.Int(name, def, usage)
	f.apply[name] = func(c *cfg) { set(c, *p) }
}

func (f *Flags) duration(name string, def time.Duration, usage string, set func(*cfg, time.Duration)) {
	p := f.fs.Duration(name, def, usage)
	f.apply[name] = func(c *cfg) { set(c, *p) }
}

// Apply overrides c's fields with the flags the user set (fs.Visit); call
// it after fs.Parse.
func (f *Flags) Apply(c *v1alpha1.KubeProxyConfiguration) {
	f.fs.Visit(func(fl *flag.Flag) {
		if set := f.apply[fl.Name]; set != nil {
			set(c)
		}
	})
}

// Config resolves the configuration: the file named by --config (decoded
// strictly) or an empty one, then the flags the user set, then defaults,
// then validation.
func (f *Flags) Config() (*v1alpha1.KubeProxyConfiguration, error) {
	c := &v1alpha1.KubeProxyConfiguration{}
	if f.ConfigFile != "" {
		var err error
		if c, err = readFile(f.ConfigFile); err != nil {
			return nil, err
		}
	}
	f.Apply(c)
	SetDefaults(c)
	if err := validateErr(c); err != nil {
		return nil, err
	}
	return c, nil
}

// LogLevel is the slog level for --v: debug at 4 and above, else info.
func (f *Flags) LogLevel() slog.Level { return VerbosityLevel(f.Verbosity) }

// VerbosityLevel maps a klog verbosity (--v, logging.verbosity) to a slog
// level: 0-3 info, 4 and above debug.
func VerbosityLevel(v int) slog.Level {
	if v >= 4 {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// parseGates reads "A=true,B=false"; a pair without a boolean value counts
// as true.
func parseGates(s string) map[string]bool {
	gates := map[string]bool{}
	for _, kv := range splitList(s) {
		k, v, _ := strings.Cut(kv, "=")
		gates[strings.TrimSpace(k)] = strings.TrimSpace(v) != "false"
	}
	return gates
}

func dur(d time.Duration) metav1.Duration { return metav1.Duration{Duration: d} }

// String lists the flags the user set, for logs.
func (f *Flags) String() string {
	var set []string
	f.fs.Visit(func(fl *flag.Flag) { set = append(set, fmt.Sprintf("--%s=%s", fl.Name, fl.Value)) })
	return strings.Join(set, " ")
}
