package dnsserver

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// kubeadmCorefile is kubeadm 1.32's Corefile.
const kubeadmCorefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`

func TestParseCorefileKubeadm(t *testing.T) {
	cf, err := ParseCorefile(kubeadmCorefile)
	if err != nil {
		t.Fatal(err)
	}
	if len(cf.Refused) != 0 {
		t.Errorf("refused %v", cf.Refused)
	}
	want := Corefile{Port: "53", Zone: "cluster.local", TTL: 30, Pods: "insecure", Fallthrough: []string{"in-addr.arpa", "ip6.arpa"},
		ResolvConf: "/etc/resolv.conf", CacheTTL: 30 * time.Second, HealthAddr: ":8080", ReadyAddr: ":8181", MetricsAddr: ":9153",
		Lameduck: 5 * time.Second}
	if got, w := fmt.Sprintf("%+v", cf), fmt.Sprintf("%+v", want); got != w {
		t.Errorf("got  %s\nwant %s", got, w)
	}
}

func TestParseCorefileRefuses(t *testing.T) {
	for _, c := range []struct {
		name, text string
		want       []string // refused lines' texts
	}{
		{"unknown plugin", ".:53 {\n rewrite name foo bar\n kubernetes cluster.local\n}\n", []string{"rewrite name foo bar"}},
		{"kubernetes option", ".:53 {\n kubernetes cluster.local {\n  endpoint_pod_names\n  pods verified\n }\n}\n", []string{"endpoint_pod_names"}},
		{"second block", ".:53 {\n ready\n}\nexample.org:53 {\n forward . 8.8.8.8\n}\n", []string{"example.org:53"}},
		{"zone block", "example.org:53 {\n ready\n}\n", []string{"example.org:53"}},
		{"forward other zone", ".:53 {\n forward example.org 10.0.0.1\n}\n", []string{"forward example.org 10.0.0.1"}},
		{"autopath", ".:53 {\n autopath @kubernetes\n autopath /etc/resolv.conf\n}\n", []string{"autopath /etc/resolv.conf"}},
		{"bad ttl", ".:53 {\n kubernetes cluster.local {\n ttl 9999\n }\n}\n", []string{"ttl 9999"}},
		{"bad lameduck", ".:53 {\n health {\n  lameduck soon\n  lameduck -1s\n  lameduck 1s 2s\n }\n}\n", []string{"lameduck soon", "lameduck -1s", "lameduck 1s 2s"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cf, err := ParseCorefile(c.text)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range cf.Refused {
				got = append(got, r.Text)
			}
			if strings.Join(got, "|") != strings.Join(c.want, "|") {
				t.Errorf("refused %q, want %q", got, c.want)
			}
		})
	}
}

func TestParseCorefileErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{".:53 {\n ready\n", "line 1: block not closed"},
		{"}\n", "line 1: unexpected }"},
		{"ready\n", `line 1: "ready": want a server block`},
		{"# nothing\n", "no server block"},
	} {
		_, err := ParseCorefile(c.text)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.text, err, c.want)
		}
	}
}

func TestParseFlagsConf(t *testing.T) {
	path := t.TempDir() + "/Corefile"
	kc := t.TempDir() + "/kubeconfig"
	for p, data := range map[string]string{
		path: strings.Replace(kubeadmCorefile, "forward . /etc/resolv.conf", "forward . 10.0.0.53", 1),
		kc:   "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: https://127.0.0.1:1}}]\ncontexts: [{name: c, context: {cluster: c}}]\ncurrent-context: c\n",
	} {
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := parseFlags("dns", []string{"-kubeconfig", kc, "-conf", path})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen[0] != ":53" || cfg.Upstreams[0] != "10.0.0.53" || cfg.TTL != 30 || cfg.Pods != "insecure" || cfg.ReadyAddr != ":8181" {
		t.Errorf("got %+v", cfg)
	}
}
