package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/kube-proxy/config/v1alpha1"
	"k8s.io/utils/ptr"
)

const header = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n"

func TestDefaultMarshalGolden(t *testing.T) {
	got, err := Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "default.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("Marshal(Default()) (-want +got):\n%s", d)
	}
}

func TestDefaultsFillOnlyUnset(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(*v1alpha1.KubeProxyConfiguration) string
	}{
		{"empty file gets defaults", "", func(c *v1alpha1.KubeProxyConfiguration) string {
			return diff(want{"0.0.0.0:10256", "127.0.0.1:10249", 14, time.Second, 30 * time.Second, ""},
				got(c))
		}},
		{"set fields kept", "healthzBindAddress: 127.0.0.1:9999\niptables:\n  masqueradeBit: 0\n  minSyncPeriod: 5s\n  syncPeriod: 1m\n",
			func(c *v1alpha1.KubeProxyConfiguration) string {
				return diff(want{"127.0.0.1:9999", "127.0.0.1:10249", 0, 5 * time.Second, time.Minute, ""}, got(c))
			}},
		{"bare healthz IP gets the port", "healthzBindAddress: 10.0.0.1\n", func(c *v1alpha1.KubeProxyConfiguration) string {
			return cmp.Diff("10.0.0.1:10256", c.HealthzBindAddress)
		}},
		{"IPv6 bind address", "bindAddress: \"::\"\n", func(c *v1alpha1.KubeProxyConfiguration) string {
			return cmp.Diff([]string{"[::]:10256", "[::1]:10249"}, []string{c.HealthzBindAddress, c.MetricsBindAddress})
		}},
		{"clusterCIDR sets detectLocalMode", "clusterCIDR: 10.244.0.0/16\n", func(c *v1alpha1.KubeProxyConfiguration) string {
			return cmp.Diff(LocalModeClusterCIDR, c.DetectLocalMode)
		}},
		{"localhostNodePorts false kept", "iptables:\n  localhostNodePorts: false\n", func(c *v1alpha1.KubeProxyConfiguration) string {
			return cmp.Diff(ptr.To(false), c.IPTables.LocalhostNodePorts)
		}},
		{"nftables periods", "mode: nftables\nnftables:\n  minSyncPeriod: 2s\n", func(c *v1alpha1.KubeProxyConfiguration) string {
			minSync, sync := SyncPeriods(c)
			return cmp.Diff([]time.Duration{2 * time.Second, 30 * time.Second}, []time.Duration{minSync, sync})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Decode([]byte(header + tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if d := tt.check(c); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

type want struct {
	Healthz, Metrics string
	MasqBit          int32
	MinSync, Sync    time.Duration
	Mode             v1alpha1.ProxyMode
}

func got(c *v1alpha1.KubeProxyConfiguration) want {
	return want{c.HealthzBindAddress, c.MetricsBindAddress, *c.IPTables.MasqueradeBit,
		c.IPTables.MinSyncPeriod.Duration, c.IPTables.SyncPeriod.Duration, c.Mode}
}

func diff(a, b want) string { return cmp.Diff(a, b) }

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"unknown field", header + "bogus: 1\n", `strict decoding error: unknown field "bogus"`},
		{"unknown nested field", header + "iptables:\n  masqueradeBits: 3\n", `unknown field "iptables.masqueradeBits"`},
		{"duplicate field", header + "mode: ipvs\nmode: iptables\n", `key "mode" already set`},
		{"bad kind", "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n",
			`apiVersion "kubeproxy.config.k8s.io/v1alpha1" kind "KubeletConfiguration" is not kubeproxy.config.k8s.io/v1alpha1 KubeProxyConfiguration`},
		{"bad apiVersion", "apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n", `apiVersion "kubeproxy.config.k8s.io/v1alpha2"`},
		{"no type meta", "mode: ipvs\n", `apiVersion "" kind ""`},
		{"not yaml", "\t{", "decode kube-proxy configuration"},
		{"wrong type", header + "iptables:\n  masqueradeBit: fourteen\n", "masqueradeBit"},
		{"invalid value", header + "iptables:\n  masqueradeBit: 40\n",
			"invalid configuration: iptables.masqueradeBit: Invalid value: 40: must be within the range [0, 31]"},
		{"json unknown field", `{"apiVersion":"kubeproxy.config.k8s.io/v1alpha1","kind":"KubeProxyConfiguration","nftables":{"x":1}}`,
			`unknown field "nftables.x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Decode([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestDecodeJSON(t *testing.T) {
	c, err := Decode([]byte(`{"apiVersion":"kubeproxy.config.k8s.io/v1alpha1","kind":"KubeProxyConfiguration","mode":"nftables"}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeNFTables || *c.NFTables.MasqueradeBit != 14 {
		t.Errorf("got mode %q bit %d", c.Mode, *c.NFTables.MasqueradeBit)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte(header+"mode: ipvs\nipvs:\n  scheduler: lc\n"), 0o600)
	os.WriteFile(bad, []byte(header+"bindAddress: nope\n"), 0o600)
	c, err := Load(good)
	if err != nil || c.IPVS.Scheduler != "lc" {
		t.Fatalf("Load(good) = %v, %v", c, err)
	}
	_, err = Load(bad)
	want := bad + `: invalid configuration: bindAddress: Invalid value: "nope": not a valid textual representation of an IP address`
	if err == nil || err.Error() != want {
		t.Errorf("Load(bad) error:\n got %v\nwant %s", err, want)
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("Load(missing) succeeded")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	c := Default()
	c.Mode = ModeNFTables
	c.ClusterCIDR = "10.244.0.0/16"
	SetDefaults(c)
	data, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(c, back); d != "" {
		t.Errorf("round trip (-want +got):\n%s", d)
	}
}
