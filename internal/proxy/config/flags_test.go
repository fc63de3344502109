package config

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/kube-proxy/config/v1alpha1"
)

func TestFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.conf")
	os.WriteFile(file, []byte(header+`mode: ipvs
clusterCIDR: 10.1.0.0/16
hostnameOverride: from-file
iptables:
  masqueradeAll: true
  syncPeriod: 10s
nodePortAddresses: ["10.0.0.0/8"]
`), 0o600)
	type view struct {
		Mode                        v1alpha1.ProxyMode
		ClusterCIDR, Hostname, Kube string
		MasqAll                     bool
		MasqBit                     int32
		MinSync, Sync               time.Duration
		NodePorts                   []string
		Verbosity                   uint32
	}
	viewOf := func(c *v1alpha1.KubeProxyConfiguration) view {
		return view{c.Mode, c.ClusterCIDR, c.HostnameOverride, c.ClientConnection.Kubeconfig,
			c.IPTables.MasqueradeAll, *c.IPTables.MasqueradeBit, c.IPTables.MinSyncPeriod.Duration,
			c.IPTables.SyncPeriod.Duration, c.NodePortAddresses, uint32(c.Logging.Verbosity)}
	}
	tests := []struct {
		name string
		args []string
		want view
	}{
		{"defaults without file or flags", nil,
			view{"", "", "", "", false, 14, time.Second, 30 * time.Second, nil, 0}},
		{"flags alone", []string{"--proxy-mode=nftables", "--cluster-cidr=10.244.0.0/16", "--masquerade-all", "--v=4", "--logtostderr"},
			view{"nftables", "10.244.0.0/16", "", "", true, 14, time.Second, 30 * time.Second, nil, 4}},
		{"file alone", []string{"--config", file},
			view{"ipvs", "10.1.0.0/16", "from-file", "", true, 14, time.Second, 10 * time.Second, []string{"10.0.0.0/8"}, 0}},
		{"flags win over the file", []string{"--config", file, "--proxy-mode", "iptables", "--hostname-override=node-1",
			"--kubeconfig=/k", "--masquerade-all=false", "--iptables-sync-period=1m", "--iptables-min-sync-period=2s",
			"--iptables-masquerade-bit=15", "--nodeport-addresses=primary"},
			view{"iptables", "10.1.0.0/16", "node-1", "/k", false, 15, 2 * time.Second, time.Minute, []string{"primary"}, 0}},
		{"flag equal to its default still wins", []string{"--config", file, "--iptables-sync-period=30s"},
			view{"ipvs", "10.1.0.0/16", "from-file", "", true, 14, time.Second, 30 * time.Second, []string{"10.0.0.0/8"}, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
			f := NewFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			c, err := f.Config()
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, viewOf(c)); d != "" {
				t.Errorf("config (-want +got):\n%s", d)
			}
		})
	}
}

func TestFlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad mode", []string{"--proxy-mode=fast"}, `invalid configuration: mode: Invalid value: "fast"`},
		{"bad bit", []string{"--iptables-masquerade-bit=32"}, "iptables.masqueradeBit: Invalid value: 32"},
		{"missing file", []string{"--config=/nonexistent/kube-proxy.yaml"}, "read kube-proxy configuration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
			f := NewFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if _, err := f.Config(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Config() error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestTutorialCommandLine(t *testing.T) {
	fs := flag.NewFlagSet("kube-proxy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := NewFlags(fs)
	args := strings.Fields("--kubeconfig=/var/lib/kube-proxy/kubeconfig --cluster-cidr=10.200.0.0/16 " +
		"--proxy-mode=iptables --hostname-override=worker-0 --v=2 --logtostderr=true --cleanup " +
		"--alsologtostderr --bind-address=0.0.0.0 --healthz-bind-address=0.0.0.0 --metrics-bind-address=0.0.0.0:10249 " +
		"--ipvs-scheduler=rr --conntrack-max-per-core=0 --detect-local-mode=ClusterCIDR --oom-score-adj=-998 " +
		"--feature-gates=A=true,B=false --conntrack-tcp-be-liberal --ipvs-strict-arp --write-config-to=/tmp/kp.yaml")
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	c, err := f.Config()
	if err != nil {
		t.Fatal(err)
	}
	if !f.Cleanup || c.HealthzBindAddress != "0.0.0.0:10256" || *c.Conntrack.MaxPerCore != 0 || f.LogLevel() != slog.LevelInfo {
		t.Errorf("cleanup %v healthz %q maxPerCore %d level %v", f.Cleanup, c.HealthzBindAddress, *c.Conntrack.MaxPerCore, f.LogLevel())
	}
	if d := cmp.Diff(map[string]bool{"A": true, "B": false}, c.FeatureGates); d != "" {
		t.Errorf("featureGates (-want +got):\n%s", d)
	}
	if !c.Conntrack.TCPBeLiberal || !c.IPVS.StrictARP || f.WriteConfigTo != "/tmp/kp.yaml" {
		t.Errorf("tcpBeLiberal %v strictARP %v write-config-to %q", c.Conntrack.TCPBeLiberal, c.IPVS.StrictARP, f.WriteConfigTo)
	}
}

func TestVerbosityLevel(t *testing.T) {
	for v, want := range map[int]slog.Level{0: slog.LevelInfo, 1: slog.LevelInfo, 3: slog.LevelInfo, 4: slog.LevelDebug, 9: slog.LevelDebug} {
		if got := VerbosityLevel(v); got != want {
			t.Errorf("VerbosityLevel(%d) = %v, want %v", v, got, want)
		}
	}
}
