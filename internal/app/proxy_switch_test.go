package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	"github.com/svcplane/svcplane/internal/proxy"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// kernelLog records what fake backends did, in order.
type kernelLog struct {
	mu      sync.Mutex
	entries []string
	failing map[proxy.Mode]bool
}

func (k *kernelLog) add(s string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.entries = append(k.entries, s)
}

func (k *kernelLog) list() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.entries)
}

// index is the position of the first entry equal to s, or -1.
func (k *kernelLog) index(s string) int { return slices.Index(k.list(), s) }

type fakeModeBackend struct {
	mode proxy.Mode
	log  *kernelLog
}

func (b *fakeModeBackend) Mode() proxy.Mode { return b.mode }

func (b *fakeModeBackend) Sync(context.Context, *proxy.State) error {
	b.log.mu.Lock()
	fail := b.log.failing[b.mode]
	b.log.mu.Unlock()
	if fail {
		return errors.New("no kernel support")
	}
	b.log.add(string(b.mode) + " sync")
	return nil
}

func (b *fakeModeBackend) NeedsFullSync(context.Context) bool    { return false }
func (b *fakeModeBackend) Rules(context.Context) (string, error) { return "", nil }

func (b *fakeModeBackend) Cleanup(context.Context) error {
	b.log.add(string(b.mode) + " cleanup")
	return nil
}

// fakeSharedBackend is a mode sharing rule names with another (iptables,
// ipvs): it hands over instead of cleaning up.
type fakeSharedBackend struct{ fakeModeBackend }

func (b *fakeSharedBackend) Handover(ctx context.Context, next proxy.Mode) error {
	if !proxy.SharesRules(b.mode, next) {
		return b.Cleanup(ctx)
	}
	b.log.add(fmt.Sprintf("%s handover to %s", b.mode, next))
	return nil
}

type switchCluster struct {
	client *fake.Clientset
	log    *kernelLog
	cancel context.CancelFunc
	done   chan error
}

func startSwitchCluster(t *testing.T, mode string) *switchCluster {
	t.Helper()
	return startSwitchClusterWith(t, mode, func(c *ProxyConfig) {})
}

func startSwitchClusterWith(t *testing.T, mode string, tweak func(*ProxyConfig)) *switchCluster {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.1"}}}}
	c := &switchCluster{client: fake.NewClientset(node), log: &kernelLog{failing: map[proxy.Mode]bool{}}, done: make(chan error, 1)}
	kp := switchConfig(t, mode)
	c.writeConfigMap(t, kp, true)
	cfg := ProxyConfig{
		KubeProxy: kp, ConfigMap: "kube-system/kube-proxy", Logger: slog.New(slog.DiscardHandler),
		clearConntrack: noConntrack{}, switchWait: 3 * time.Second,
		newBackend: func(_ context.Context, m proxy.Mode, fam corev1.IPFamily, _ ProxyConfig) (proxy.Backend, error) {
			if fam != corev1.IPv4Protocol {
				return nil, proxy.ErrUnavailable
			}
			b := fakeModeBackend{mode: m, log: c.log}
			if m == proxy.ModeIPTables || m == proxy.ModeIPVS {
				return &fakeSharedBackend{b}, nil
			}
			return &b, nil
		},
	}
	tweak(&cfg)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { c.done <- runProxyWith(ctx, cfg, c.client) }()
	t.Cleanup(func() {
		cancel()
		if err := <-c.done; err != nil {
			t.Errorf("proxy: %v", err)
		}
	})
	c.waitFor(t, mode+" sync")
	return c
}

type noConntrack struct{}

func (noConntrack) Delete(context.Context, proxy.Flow) (int, error) { return 0, nil }

func switchConfig(t *testing.T, mode string) *kpv1.KubeProxyConfiguration {
	t.Helper()
	kp := proxyconfig.Default()
	kp.Mode = kpv1.ProxyMode(mode)
	kp.HostnameOverride = "n1"
	kp.HealthzBindAddress, kp.MetricsBindAddress = "", ""
	short := metav1.Duration{Duration: 10 * time.Millisecond}
	kp.IPTables.MinSyncPeriod, kp.NFTables.MinSyncPeriod, kp.IPVS.MinSyncPeriod = short, short, short
	return kp
}

func (c *switchCluster) writeConfigMap(t *testing.T, kp *kpv1.KubeProxyConfiguration, create bool) {
	t.Helper()
	data, err := proxyconfig.Marshal(kp)
	if err != nil {
		t.Fatal(err)
	}
	c.writeConfigText(t, string(data), create)
}

func (c *switchCluster) writeConfigText(t *testing.T, text string, create bool) {
	t.Helper()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy", Namespace: "kube-system"},
		Data: map[string]string{"config.conf": text}}
	cms := c.client.CoreV1().ConfigMaps("kube-system")
	var err error
	if create {
		_, err = cms.Create(context.Background(), cm, metav1.CreateOptions{})
	} else {
		_, err = cms.Update(context.Background(), cm, metav1.UpdateOptions{})
	}
	if err != nil {
		t.Fatal(err)
	}
}

func (c *switchCluster) waitFor(t *testing.T, entry string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for c.log.index(entry) < 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no %q; the backends did: %q", entry, c.log.list())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (c *switchCluster) waitEvent(t *testing.T, reason string) corev1.Event {
	t.Helper()
	return waitEvent(t, c.client, "kube-system", reason)
}

func TestProxySwitchesModeLive(t *testing.T) {
	c := startSwitchCluster(t, "iptables")
	c.waitFor(t, "nftables cleanup") // the other modes' leftovers, at start
	c.writeConfigMap(t, switchConfig(t, "nftables"), false)
	// iptables and nftables do not share rules: the old mode is removed,
	// after the new one programmed its rules.
	c.waitFor(t, "iptables cleanup")
	if synced, removed := c.log.index("nftables sync"), c.log.index("iptables cleanup"); synced > removed {
		t.Errorf("iptables rules removed before nftables programmed its own: %q", c.log.list())
	}
	e := c.waitEvent(t, "ConfigurationApplied")
	if !strings.Contains(e.Message, "iptables -> nftables") || e.InvolvedObject.Name != "kube-proxy" {
		t.Errorf("event %q on %s", e.Message, e.InvolvedObject.Name)
	}
}

func TestProxySharedModesHandOver(t *testing.T) {
	c := startSwitchCluster(t, "iptables")
	c.writeConfigMap(t, switchConfig(t, "ipvs"), false)
	c.waitFor(t, "iptables handover to ipvs")
	if c.log.index("iptables cleanup") >= 0 {
		t.Errorf("iptables rules cleaned up under ipvs, which shares them: %q", c.log.list())
	}
	if synced, handed := c.log.index("ipvs sync"), c.log.index("iptables handover to ipvs"); synced > handed {
		t.Errorf("handover before ipvs programmed its rules: %q", c.log.list())
	}
}

func TestProxyKeepsModeOnBrokenConfigMap(t *testing.T) {
	c := startSwitchCluster(t, "iptables")
	c.writeConfigText(t, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nbogus: 1\n", false)
	e := c.waitEvent(t, "InvalidConfiguration")
	if !strings.Contains(e.Message, "bogus") || !strings.Contains(e.Message, "keeps running iptables mode") {
		t.Errorf("event message %q", e.Message)
	}
	if c.log.index("nftables sync") >= 0 {
		t.Errorf("a broken ConfigMap switched modes: %q", c.log.list())
	}
}

func TestProxyKeepsModeWhenNewModeFails(t *testing.T) {
	c := startSwitchCluster(t, "iptables")
	c.log.mu.Lock()
	c.log.failing[proxy.ModeNFTables] = true
	c.log.mu.Unlock()
	c.writeConfigMap(t, switchConfig(t, "nftables"), false)
	e := c.waitEvent(t, "ConfigurationNotApplied")
	if !strings.Contains(e.Message, "runs iptables mode") {
		t.Errorf("event message %q", e.Message)
	}
	if c.log.index("iptables cleanup") >= 0 {
		t.Errorf("the running mode was removed for one that failed: %q", c.log.list())
	}
}

// The kube-proxy DaemonSet's pod follows its --config file (the
// ConfigMap's volume, which the agent refreshes) and switches live.
func TestProxyFollowsConfigFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.conf")
	write := func(mode string) {
		data, err := proxyconfig.Marshal(switchConfig(t, mode))
		if err != nil {
			t.Fatal(err)
		}
		// As a volume refresh does: a new file renamed over the old.
		if err := os.WriteFile(path+".new", data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	write("iptables")
	c := startSwitchClusterWith(t, "iptables", func(cfg *ProxyConfig) {
		cfg.ConfigMap, cfg.ConfigFile, cfg.fileWait = "", path, 10*time.Millisecond
	})
	write("nftables")
	c.waitFor(t, "iptables cleanup")
	if synced, removed := c.log.index("nftables sync"), c.log.index("iptables cleanup"); synced > removed {
		t.Errorf("iptables rules removed before nftables programmed its own: %q", c.log.list())
	}
	e := waitEvent(t, c.client, "default", "ConfigurationApplied")
	if !strings.Contains(e.Message, "iptables -> nftables") || e.InvolvedObject.Kind != "Node" || e.InvolvedObject.Name != "n1" {
		t.Errorf("event %q on %s %s", e.Message, e.InvolvedObject.Kind, e.InvolvedObject.Name)
	}
	if err := os.WriteFile(path, []byte("kind: Nonsense\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if e := waitEvent(t, c.client, "default", "InvalidConfiguration"); !strings.Contains(e.Message, "keeps running nftables mode") {
		t.Errorf("event %q", e.Message)
	}
}
