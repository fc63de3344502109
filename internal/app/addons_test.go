package app

import (
	"context"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcplane/svcplane/internal/dnsserver"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

func TestAddonsCorefileIsServedWhole(t *testing.T) {
	cf, err := dnsserver.ParseCorefile(corefile("example.local", nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Refused) != 0 || cf.Zone != "example.local" || cf.TTL != 30 {
		t.Errorf("got %+v", cf)
	}
	cf, err = dnsserver.ParseCorefile(corefile("cluster.local", []string{"10.240.0.2:1053", "10.0.0.9"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Refused) != 0 || cf.ResolvConf != "" || strings.Join(cf.Upstreams, " ") != "10.240.0.2:1053 10.0.0.9" {
		t.Errorf("with --dns-upstream: got %+v", cf)
	}
}

func TestUpClusterDNS(t *testing.T) {
	for _, c := range []struct {
		given string
		cidrs []string
		want  string
		err   string
	}{
		{"", nil, "10.96.0.10", ""},
		{"", []string{"10.10.10.0/24"}, "10.10.10.10", ""},
		{"", []string{"fd00:10::/108", "10.10.10.0/24"}, "fd00:10::a", ""},
		{"10.10.10.2", []string{"10.10.10.0/24"}, "10.10.10.2", ""},
		{"10.96.0.10", []string{"10.10.10.0/24"}, "", "--cluster-dns 10.96.0.10 is not in the service CIDR 10.10.10.0/24"},
		{"nonsense", nil, "", `--cluster-dns "nonsense": not an IP address`},
	} {
		got, err := upClusterDNS(c.given, c.cidrs)
		if got != c.want || (err == nil) != (c.err == "") || (err != nil && !strings.Contains(err.Error(), c.err)) {
			t.Errorf("upClusterDNS(%q, %v) = %q, %v; want %q, %q", c.given, c.cidrs, got, err, c.want, c.err)
		}
	}
}

func TestApplyAddons(t *testing.T) {
	client := fake.NewClientset()
	ctx := context.Background()
	cfg := UpConfig{Agent: AgentSettings{ClusterDNS: "10.96.0.10"}}
	if err := applyAddons(ctx, client, cfg, "https://10.240.0.2:6443"); err != nil {
		t.Fatal(err)
	}
	// A second run (up started again) keeps what is there.
	if err := applyAddons(ctx, client, cfg, "https://10.240.0.2:6443"); err != nil {
		t.Fatal(err)
	}
	ds, err := client.AppsV1().DaemonSets("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	spec := ds.Spec.Template.Spec
	if got := strings.Join(spec.Containers[0].Command, " "); got != "/usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf --hostname-override=$(NODE_NAME)" || !spec.HostNetwork {
		t.Errorf("kube-proxy command %q, hostNetwork %v", got, spec.HostNetwork)
	}
	cm, err := client.CoreV1().ConfigMaps("kube-system").Get(ctx, "kube-proxy", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := proxyconfig.Decode([]byte(cm.Data["config.conf"]))
	if err != nil {
		t.Fatal(err)
	}
	if kp.ClientConnection.Kubeconfig != "/var/lib/kube-proxy/kubeconfig.conf" || kp.HostnameOverride != "" ||
		!strings.Contains(cm.Data["kubeconfig.conf"], "server: https://10.240.0.2:6443") {
		t.Errorf("kube-proxy ConfigMap %v", cm.Data)
	}
	d, err := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if *d.Spec.Replicas != 2 || d.Spec.Template.Labels["k8s-app"] != "kube-dns" {
		t.Errorf("coredns %+v", d.Spec)
	}
	svc, err := client.CoreV1().Services("kube-system").Get(ctx, "kube-dns", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Spec.ClusterIP != "10.96.0.10" || svc.Spec.Selector["k8s-app"] != "kube-dns" {
		t.Errorf("kube-dns %+v", svc.Spec)
	}
	if err := removeAddons(ctx, client); err != nil {
		t.Fatal(err)
	}
	if _, err := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{}); err == nil {
		t.Error("coredns left after removeAddons")
	}
}
