package guest

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// TestNodeIPVS runs a whole svcplane node (`svcplane up --proxy-mode
// ipvs`: etcd, API server, controllers, agent, proxy) in the guest and
// checks the tutorials' IPVS steps against it: a ClusterIP over three
// serve-hostname pods, as `ipvsadm -ln` and kube-ipvs0 show it and as a
// client sees it, then NodePort, the wrr and sh schedulers, and
// kube-proxy's ipvs settings applied from the kube-proxy ConfigMap.
// Subtests run in order on the one node.
func TestNodeIPVS(t *testing.T) {
	n := startNode(t)
	svc := n.hostnames(t)
	vip := netip.MustParseAddr(svc.Spec.ClusterIP)
	vs := netip.AddrPortFrom(vip, 80)
	t.Logf("service hostnames: cluster IP %s, NodePort %d, pods %v", vip, svc.Spec.Ports[0].NodePort, n.podNames)

	t.Run("rr", func(t *testing.T) {
		out := n.waitIPVS(t, vs, "rr", 3)
		t.Logf("ipvsadm -ln:\n%s", out)
		addrs := run(t, "ip", "-o", "addr", "show", "dev", "kube-ipvs0")
		if !strings.Contains(addrs, " "+vip.String()+"/32 ") {
			t.Errorf("kube-ipvs0 does not hold %s/32:\n%s", vip, addrs)
		}
		// rr gives each new connection to the next real server in turn:
		// three each while the endpoints stay the same (on a starved
		// machine a late node heartbeat can mark pods unready a while).
		counts := n.requests(t, vs, netip.Addr{}, 9)
		t.Logf("nine requests under rr: %v", counts)
		n.wantAll(t, counts)
	})

	t.Run("NodePort", func(t *testing.T) {
		np := netip.AddrPortFrom(netip.MustParseAddr(nodeIP), uint16(svc.Spec.Ports[0].NodePort))
		n.waitIPVS(t, np, "rr", 3)
		n.wantAll(t, n.requests(t, np, netip.Addr{}, 6))
	})

	t.Run("wrr", func(t *testing.T) {
		n.annotate(t, "wrr")
		out := n.waitIPVS(t, vs, "wrr", 3)
		// Every real server has weight 1 (as kube-proxy sets them), so
		// wrr serves them in turn like rr.
		if !regexp.MustCompile(`(?m)^TCP  ` + regexp.QuoteMeta(vs.String()) + ` wrr\s*\n(  -> \S+\s+Masq\s+1\s+\d+\s+\d+\s*\n){3}`).MatchString(out + "\n") {
			t.Errorf("want three real servers of weight 1 under wrr:\n%s", out)
		}
		counts := n.requests(t, vs, netip.Addr{}, 6)
		t.Logf("six requests under wrr: %v", counts)
		n.wantAll(t, counts)
	})

	t.Run("sh", func(t *testing.T) {
		n.annotate(t, "sh")
		n.waitIPVS(t, vs, "sh", 3)
		// sh hashes the client's address: each client keeps one pod;
		// clients spread over the pods.
		seen := map[string]bool{}
		for _, src := range clientIPs() {
			counts := n.requests(t, vs, src, 3)
			if len(counts) != 1 {
				t.Errorf("client %s reached %d pods under sh, want 1: %v", src, len(counts), counts)
			}
			for pod := range counts {
				seen[pod] = true
			}
		}
		if len(seen) < 2 {
			t.Errorf("%d clients all reached the same pod under sh: %v", len(clientIPs()), seen)
		}
		n.annotate(t, "")
		n.waitIPVS(t, vs, "rr", 3)
	})

	t.Run("settings", func(t *testing.T) {
		n.ipvsSettings(t, vs)
	})
}

// ipvsSettings writes kube-proxy's ipvs settings into the kube-proxy
// ConfigMap, which the running proxy applies: the IPVS timeouts (as
// `ipvsadm -ln --timeout` shows them), strictARP's sysctls, and
// excludeCIDRs, which keep a virtual service there that a full sync
// would remove (its neighbour outside them goes).
func (n *node) ipvsSettings(t *testing.T, vs netip.AddrPort) {
	n.editKubeProxy(t, func(kp *kpv1.KubeProxyConfiguration) {
		kp.IPVS.TCPTimeout = metav1.Duration{Duration: 1000 * time.Second}
		kp.IPVS.TCPFinTimeout = metav1.Duration{Duration: 60 * time.Second}
		kp.IPVS.UDPTimeout = metav1.Duration{Duration: 200 * time.Second}
		kp.IPVS.StrictARP = true
		kp.IPVS.ExcludeCIDRs = []string{"10.0.3.0/24"}
	})
	poll(t, 2*time.Minute, "IPVS timeouts 1000 60 200", func(context.Context) (bool, error) {
		out, _ := exec.Command("ipvsadm", "-ln", "--timeout").CombinedOutput()
		return strings.Contains(string(out), "Timeout (tcp tcpfin udp): 1000 60 200"), nil
	})
	for name, want := range map[string]string{"arp_ignore": "1", "arp_announce": "2"} {
		b, err := os.ReadFile("/proc/sys/net/ipv4/conf/all/" + name)
		if err != nil || strings.TrimSpace(string(b)) != want {
			t.Errorf("net.ipv4.conf.all.%s is %q (%v), want %s", name, b, err, want)
		}
	}
	n.waitIPVS(t, vs, "rr", 3)

	// Virtual services on kube-ipvs0 addresses that no Service has: the
	// mode's to remove at its next full sync, unless in excludeCIDRs.
	// Syncs without changes are partial; a configuration change starts
	// the proxy over with a full one.
	for _, a := range []string{"10.0.3.1", "10.0.4.1"} {
		run(t, "ip", "addr", "add", a+"/32", "dev", "kube-ipvs0")
		run(t, "ipvsadm", "-A", "-t", a+":80", "-s", "rr")
	}
	n.editKubeProxy(t, func(kp *kpv1.KubeProxyConfiguration) {
		kp.IPVS.TCPTimeout = metav1.Duration{Duration: 1001 * time.Second}
	})
	poll(t, 2*time.Minute, "a full sync to remove 10.0.4.1:80", func(context.Context) (bool, error) {
		out, _ := exec.Command("ipvsadm", "-ln", "--timeout").CombinedOutput()
		if !strings.Contains(string(out), "Timeout (tcp tcpfin udp): 1001 60 200") {
			return false, nil
		}
		out, _ = exec.Command("ipvsadm", "-ln").CombinedOutput()
		return !strings.Contains(string(out), "10.0.4.1:80"), nil
	})
	if out := run(t, "ipvsadm", "-ln"); !strings.Contains(out, "TCP  10.0.3.1:80 rr") {
		t.Errorf("the virtual service in excludeCIDRs was removed:\n%s", out)
	}
	n.wantAll(t, n.requests(t, vs, netip.Addr{}, 6))
}

// editKubeProxy changes the kube-system/kube-proxy ConfigMap's
// configuration with edit.
func (n *node) editKubeProxy(t *testing.T, edit func(*kpv1.KubeProxyConfiguration)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cms := n.client.CoreV1().ConfigMaps("kube-system")
	cm, err := cms.Get(ctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get the kube-proxy ConfigMap: %v", err)
	}
	kp, err := proxyconfig.Decode([]byte(cm.Data["config.conf"]))
	if err != nil {
		t.Fatalf("decode config.conf: %v", err)
	}
	edit(kp)
	data, err := proxyconfig.Marshal(kp)
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["config.conf"] = string(data)
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("update the kube-proxy ConfigMap: %v", err)
	}
}

// annotate sets (or with "" removes) the Service's svcplane.io/scheduler.
func (n *node) annotate(t *testing.T, scheduler string) {
	t.Helper()
	value := "null"
	if scheduler != "" {
		value = fmt.Sprintf("%q", scheduler)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{"svcplane.io/scheduler":%s}}}`, value)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.client.CoreV1().Services(testNamespace).Patch(ctx, "hostnames", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("annotate service hostnames: %v", err)
	}
}

// wantAll checks that every pod served a request.
func (n *node) wantAll(t *testing.T, counts map[string]int) {
	t.Helper()
	for _, pod := range n.podNames {
		if counts[pod] == 0 {
			t.Errorf("pod %s served none of the requests: %v", pod, counts)
		}
	}
}
