package ui

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// fakeRules answers Explain from a table keyed by "dst:port".
type fakeRules map[string][]tracer.Path

func (f fakeRules) Explain(p tracer.Packet) []tracer.Path {
	return f[netip.AddrPortFrom(p.Dst, uint16(p.Port)).String()]
}

func service(name string, mutate ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	for _, m := range mutate {
		m(s)
	}
	return s
}

type ep struct {
	pod, ip, host               string
	ready, serving, terminating bool
}

func slice(svc, name string, eps ...ep) *discoveryv1.EndpointSlice {
	port, proto, pname := int32(8080), corev1.ProtocolTCP, "http"
	sl := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: &pname, Port: &port, Protocol: &proto}},
	}
	node := "n1"
	for _, e := range eps {
		r, s, t := e.ready, e.serving, e.terminating
		d := discoveryv1.Endpoint{
			Addresses:  []string{e.ip},
			Conditions: discoveryv1.EndpointConditions{Ready: &r, Serving: &s, Terminating: &t},
			NodeName:   &node,
			TargetRef:  &corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: e.pod},
		}
		if e.host != "" {
			d.Hostname = &e.host
		}
		sl.Endpoints = append(sl.Endpoints, d)
	}
	return sl
}

func pod(name, app string, phase corev1.PodPhase) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: name, Labels: map[string]string{"app": app}},
		Status:     corev1.PodStatus{Phase: phase},
	}
}

func node(name, ip string) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status: corev1.NodeStatus{
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: ip}},
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
		},
	}
}

func way(to string, prob float64, rules ...string) tracer.Path {
	return tracer.Path{To: to, Prob: prob, Rules: rules}
}

// summary prints a model a line per thing, indented as the page nests it.
func summary(m Model) string {
	var b strings.Builder
	for _, n := range m.Nodes {
		fmt.Fprintf(&b, "node %s ready=%v modes=%v err=%q\n", n.Name, n.Ready, n.Modes, n.RulesError)
	}
	for _, s := range m.Services {
		fmt.Fprintf(&b, "svc %s/%s %s %v ports=%v\n", s.Namespace, s.Name, s.Type, s.ClusterIPs, s.Ports)
		for _, d := range s.DNS {
			fmt.Fprintf(&b, "  dns %s\n", d)
		}
		for _, w := range s.Rules {
			fmt.Fprintf(&b, "  way %s\n", wayText(w))
		}
		for _, p := range s.Pending {
			fmt.Fprintf(&b, "  pending %s\n", p)
		}
		for _, sl := range s.Slices {
			fmt.Fprintf(&b, "  slice %s %s %v\n", sl.Name, sl.AddressType, sl.Ports)
			for _, e := range sl.Endpoints {
				fmt.Fprintf(&b, "    pod %s %v %s ready=%v serving=%v terminating=%v\n", e.Pod, e.Addresses, e.PodPhase, e.Ready, e.Serving, e.Terminating)
				for _, d := range e.DNS {
					fmt.Fprintf(&b, "      dns %s\n", d)
				}
				for _, w := range e.Rules {
					fmt.Fprintf(&b, "      way %s\n", wayText(w))
				}
			}
		}
	}
	return b.String()
}

func wayText(w Way) string {
	return fmt.Sprintf("%s %s %s -> %s %.2f %s", w.Node, w.Mode, w.Port, w.To, w.Chance, strings.Join(w.Rules, " | "))
}

func TestBuild(t *testing.T) {
	three := fakeRules{"10.96.0.20:80": {
		way("10.244.0.5:8080", 1.0/3, "SVC", "SEP-A"),
		way("10.244.0.6:8080", 1.0/3, "SVC", "SEP-B"),
		way("10.244.0.7:8080", 1.0/3, "SVC", "SEP-C"),
	}}
	two := fakeRules{"10.96.0.20:80": {
		way("10.244.0.5:8080", 0.5, "SVC", "SEP-A"),
		way("10.244.0.6:8080", 0.5, "SVC", "SEP-B"),
	}}
	ready := func(pod, ip string) ep { return ep{pod: pod, ip: ip, ready: true, serving: true} }
	cases := []struct {
		name string
		in   Input
		want string
	}{{
		name: "three ready pods, each with its rule",
		in: Input{
			Services: []*corev1.Service{service("web")},
			Slices:   []*discoveryv1.EndpointSlice{slice("web", "web-x", ready("web-c", "10.244.0.7"), ready("web-a", "10.244.0.5"), ready("web-b", "10.244.0.6"))},
			Pods:     []*corev1.Pod{pod("web-a", "web", corev1.PodRunning), pod("web-b", "web", corev1.PodRunning), pod("web-c", "web", corev1.PodRunning)},
			Nodes:    []*corev1.Node{node("n1", "10.240.0.2")},
			Rules:    map[string]NodeRules{"n1": {Modes: []ModeRules{{Mode: "iptables", Explainer: three}}}},
			Domain:   "cluster.local",
		},
		want: `node n1 ready=true modes=[iptables] err=""
svc default/web ClusterIP [10.96.0.20] ports=[http 80/TCP -> 8080]
  dns web.default.svc.cluster.local -> 10.96.0.20
  dns _http._tcp.web.default.svc.cluster.local (SRV)
  slice web-x IPv4 [http 8080/TCP]
    pod web-a [10.244.0.5] Running ready=true serving=true terminating=false
      way n1 iptables http 80/TCP -> 10.244.0.5:8080 0.33 SVC | SEP-A
    pod web-b [10.244.0.6] Running ready=true serving=true terminating=false
      way n1 iptables http 80/TCP -> 10.244.0.6:8080 0.33 SVC | SEP-B
    pod web-c [10.244.0.7] Running ready=true serving=true terminating=false
      way n1 iptables http 80/TCP -> 10.244.0.7:8080 0.33 SVC | SEP-C
`,
	}, {
		name: "a terminating pod keeps its slice entry but loses its rule",
		in: Input{
			Services: []*corev1.Service{service("web")},
			Slices: []*discoveryv1.EndpointSlice{slice("web", "web-x", ready("web-a", "10.244.0.5"), ready("web-b", "10.244.0.6"),
				ep{pod: "web-c", ip: "10.244.0.7", serving: true, terminating: true})},
			Nodes:  []*corev1.Node{node("n1", "10.240.0.2")},
			Rules:  map[string]NodeRules{"n1": {Modes: []ModeRules{{Mode: "iptables", Explainer: two}}}},
			Domain: "example.org",
		},
		want: `node n1 ready=true modes=[iptables] err=""
svc default/web ClusterIP [10.96.0.20] ports=[http 80/TCP -> 8080]
  dns web.default.svc.example.org -> 10.96.0.20
  dns _http._tcp.web.default.svc.example.org (SRV)
  slice web-x IPv4 [http 8080/TCP]
    pod web-a [10.244.0.5]  ready=true serving=true terminating=false
      way n1 iptables http 80/TCP -> 10.244.0.5:8080 0.50 SVC | SEP-A
    pod web-b [10.244.0.6]  ready=true serving=true terminating=false
      way n1 iptables http 80/TCP -> 10.244.0.6:8080 0.50 SVC | SEP-B
    pod web-c [10.244.0.7]  ready=false serving=true terminating=true
`,
	}, {
		name: "no endpoints: the reject is the Service's, the pending pod is listed",
		in: Input{
			Services: []*corev1.Service{service("web")},
			Pods:     []*corev1.Pod{pod("web-a", "web", corev1.PodPending), pod("other", "db", corev1.PodRunning)},
			Nodes:    []*corev1.Node{node("n1", "10.240.0.2")},
			Rules: map[string]NodeRules{"n1": {Modes: []ModeRules{{Mode: "nftables", Explainer: fakeRules{
				"10.96.0.20:80": {way(tracer.Reject, 1, "services: ip daddr . meta l4proto . th dport vmap @no-endpoint-services")},
			}}}}},
		},
		want: `node n1 ready=true modes=[nftables] err=""
svc default/web ClusterIP [10.96.0.20] ports=[http 80/TCP -> 8080]
  dns web.default.svc.cluster.local -> 10.96.0.20
  dns _http._tcp.web.default.svc.cluster.local (SRV)
  way n1 nftables http 80/TCP -> REJECT 1.00 services: ip daddr . meta l4proto . th dport vmap @no-endpoint-services
  pending web-a
`,
	}, {
		name: "headless: names for the ready endpoints, no rules",
		in: Input{
			Services: []*corev1.Service{service("zk-hs", func(s *corev1.Service) {
				s.Spec.ClusterIP, s.Spec.ClusterIPs = corev1.ClusterIPNone, []string{corev1.ClusterIPNone}
			})},
			Slices: []*discoveryv1.EndpointSlice{slice("zk-hs", "zk-hs-1",
				ep{pod: "zk-0", ip: "10.244.0.8", host: "zk-0", ready: true, serving: true},
				ready("zk-1", "10.244.0.9"),
				ep{pod: "zk-2", ip: "10.244.0.10", host: "zk-2"})},
			Nodes: []*corev1.Node{node("n1", "10.240.0.2")},
			Rules: map[string]NodeRules{"n1": {Modes: []ModeRules{{Mode: "iptables", Explainer: three}}}},
		},
		want: `node n1 ready=true modes=[iptables] err=""
svc default/zk-hs ClusterIP [] ports=[http 80/TCP -> 8080]
  dns zk-hs.default.svc.cluster.local (A of each ready endpoint)
  dns _http._tcp.zk-hs.default.svc.cluster.local (SRV)
  slice zk-hs-1 IPv4 [http 8080/TCP]
    pod zk-0 [10.244.0.8]  ready=true serving=true terminating=false
      dns zk-0.zk-hs.default.svc.cluster.local
    pod zk-1 [10.244.0.9]  ready=true serving=true terminating=false
      dns 10-244-0-9.zk-hs.default.svc.cluster.local
    pod zk-2 [10.244.0.10]  ready=false serving=false terminating=false
`,
	}, {
		name: "rules that cannot be read are said so, and no way is shown",
		in: Input{
			Services: []*corev1.Service{service("web"), service("db", func(s *corev1.Service) {
				s.Spec.Type, s.Spec.ExternalName, s.Spec.ClusterIP, s.Spec.ClusterIPs, s.Spec.Ports = corev1.ServiceTypeExternalName, "db.example.org", "", nil, nil
			})},
			Slices: []*discoveryv1.EndpointSlice{slice("web", "web-x", ready("web-a", "10.244.0.5"))},
			Nodes:  []*corev1.Node{node("n1", "10.240.0.2"), node("n0", "10.240.0.3")},
			Rules:  map[string]NodeRules{"n1": {Err: errors.New("node n1: no sandbox namespace")}},
		},
		want: `node n0 ready=true modes=[] err="rules not read yet"
node n1 ready=true modes=[] err="node n1: no sandbox namespace"
svc default/db ExternalName [] ports=[]
  dns db.default.svc.cluster.local CNAME db.example.org
svc default/web ClusterIP [10.96.0.20] ports=[http 80/TCP -> 8080]
  dns web.default.svc.cluster.local -> 10.96.0.20
  dns _http._tcp.web.default.svc.cluster.local (SRV)
  slice web-x IPv4 [http 8080/TCP]
    pod web-a [10.244.0.5]  ready=true serving=true terminating=false
`,
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := summary(Build(c.in)); got != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, c.want)
			}
		})
	}
}
