package app

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

func TestResolveTrace(t *testing.T) {
	client := fake.NewSimpleClientset(
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "cl"}, Spec: corev1.PodSpec{NodeName: "n1"},
			Status: corev1.PodStatus{PodIP: "10.244.0.5"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
			Status: corev1.NodeStatus{Addresses: []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n1"}, {Type: corev1.NodeInternalIP, Address: "10.240.0.2"}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "demo", Name: "web"}, Spec: corev1.ServiceSpec{ClusterIP: "10.96.0.20",
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP}}}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "hl"}, Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone}},
	)
	ctx := context.Background()
	for _, c := range []struct {
		from, to, port, want string
		proto                corev1.Protocol
	}{
		{from: "pod/cl", to: "web.demo", want: "pod default/cl 10.244.0.5 n1 10.96.0.20:80 TCP service demo/web port 80 (http)"},
		{from: "pod/cl", to: "svc/web.demo.svc.cluster.local", port: "dns", want: "pod default/cl 10.244.0.5 n1 10.96.0.20:53 UDP service demo/web port 53 (dns)"},
		{from: "pod/cl", to: "web.demo", proto: corev1.ProtocolUDP, want: "pod default/cl 10.244.0.5 n1 10.96.0.20:53 UDP service demo/web port 53 (dns)"},
		{from: "node/n1", to: "10.96.0.10:53", proto: corev1.ProtocolUDP, want: "node n1 10.240.0.2 n1 10.96.0.10:53 UDP "},
		{from: "node/n1", to: "1.2.3.4:80", want: "node n1 10.240.0.2 n1 1.2.3.4:80 TCP "},
		{from: "pod/cl", to: "web.demo", port: "99", want: `service demo/web has no port "99"`},
		{from: "pod/cl", to: "hl", want: "service default/hl has no cluster IP"},
		{from: "pod/nope", to: "hl", want: `pods "nope" not found`},
		{from: "cl", to: "hl", want: `--from "cl": want pod/<name> or node/<name>`},
	} {
		ends, err := resolveTrace(ctx, TraceConfig{Client: client, From: c.from, To: c.to, Port: c.port, Protocol: c.proto, Namespace: "default"})
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = strings.Join([]string{ends.from, ends.src.String(), ends.node.Name, netip.AddrPortFrom(ends.dst, uint16(ends.port)).String(), string(ends.proto), ends.service}, " ")
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("%s -> %s: %q, want %q", c.from, c.to, got, c.want)
		}
	}
}

func TestDescribePath(t *testing.T) {
	for _, c := range []struct {
		p    tracer.Path
		want string
	}{
		{tracer.Path{To: "10.244.0.5:80", Prob: 1.0 / 3}, "to endpoint 10.244.0.5:80; chance 33.3%"},
		{tracer.Path{To: "10.244.0.5:80", Masq: true, Prob: 1}, "to endpoint 10.244.0.5:80, masqueraded (source NAT to the node); chance 100.0%"},
		{tracer.Path{To: "10.244.0.5:80"}, "to endpoint 10.244.0.5:80; only for a client that has session affinity to it"},
		{tracer.Path{To: tracer.Reject, Prob: 1}, "REJECT (the client gets a refusal at once); chance 100.0%"},
		{tracer.Path{To: tracer.None, Prob: 1}, "no rule rewrites it: it goes on to its destination unchanged; chance 100.0%"},
	} {
		if got := describePath(c.p); got != c.want {
			t.Errorf("%+v: %q, want %q", c.p, got, c.want)
		}
	}
}

func TestIPTablesModeBesideIPVS(t *testing.T) {
	ipvsSave := "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-NODE-PORT - [0:0]\n-A KUBE-SERVICES -m set --match-set KUBE-CLUSTER-IP dst,dst -j ACCEPT\nCOMMIT\n"
	iptSave := "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\nCOMMIT\n"
	for _, c := range []struct {
		save     string
		ipvsHere bool
		want     bool
	}{
		{ipvsSave, true, false},
		{iptSave, true, true},
		{ipvsSave, false, true},
		{"*nat\nCOMMIT\n", false, false},
	} {
		if got := iptablesMode(c.save, c.ipvsHere); got != c.want {
			t.Errorf("iptablesMode(ipvs here %v) = %v, want %v for:\n%s", c.ipvsHere, got, c.want, c.save)
		}
	}
}
