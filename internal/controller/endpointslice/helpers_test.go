package endpointslice

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

type podOpt func(*corev1.Pod)

// pod returns a ready pod labelled app=web on node n1.
func pod(name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c"}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)}}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func unready() podOpt {
	return func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }
}

func terminating() podOpt {
	return func(p *corev1.Pod) { now := metav1.NewTime(t0); p.DeletionTimestamp = &now }
}

func onNode(n string) podOpt { return func(p *corev1.Pod) { p.Spec.NodeName = n } }

func extraIP(ip string) podOpt {
	return func(p *corev1.Pod) { p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip}) }
}

func hostname(host, subdomain string) podOpt {
	return func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = host, subdomain }
}

func containerPort(name string, port int32) podOpt {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: corev1.ProtocolTCP})
	}
}

// pods returns n ready pods p000.. with IPs 10.0.x.y.
func pods(n int, opts ...podOpt) []*corev1.Pod {
	var out []*corev1.Pod
	for i := range n {
		out = append(out, pod(fmt.Sprintf("p%03d", i), fmt.Sprintf("10.0.%d.%d", i/200, i%200+1), opts...))
	}
	return out
}

type svcOpt func(*corev1.Service)

// service returns ns/web selecting app=web, port http 80 -> 8080.
func service(opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "svc-uid"},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "web"}, ClusterIP: "10.96.0.10", IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func nodes(zones ...string) map[string]*corev1.Node {
	out := map[string]*corev1.Node{}
	for i, z := range zones {
		name := fmt.Sprintf("n%d", i+1)
		out[name] = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{corev1.LabelTopologyZone: z}}}
	}
	return out
}

// existing turns planned creates into stored slices named web-1, web-2...
func existing(plan Plan) []*discoveryv1.EndpointSlice {
	var out []*discoveryv1.EndpointSlice
	for i, s := range plan.Create {
		s = s.DeepCopy()
		s.Name, s.GenerateName = fmt.Sprintf("web-%d", i+1), ""
		s.UID, s.ResourceVersion, s.Generation = types.UID(s.Name), "1", 1
		out = append(out, s)
	}
	return out
}

// describe prints a plan as lines: verb, name, address type, ports and
// the endpoints' addresses.
func describe(p Plan) string {
	var b strings.Builder
	for _, s := range p.Create {
		fmt.Fprintf(&b, "create %s\n", sliceLine(s))
	}
	for _, s := range p.Update {
		fmt.Fprintf(&b, "update %s\n", sliceLine(s))
	}
	for _, s := range p.Delete {
		fmt.Fprintf(&b, "delete %s\n", s.Name)
	}
	if len(p.MissingNodes) > 0 {
		fmt.Fprintf(&b, "missing nodes %v\n", p.MissingNodes)
	}
	return b.String()
}

func sliceLine(s *discoveryv1.EndpointSlice) string {
	name := s.Name
	if name == "" {
		name = s.GenerateName + "*"
	}
	var ports []string
	for _, p := range s.Ports {
		ports = append(ports, fmt.Sprintf("%s:%d", ptr.Deref(p.Name, ""), ptr.Deref(p.Port, 0)))
	}
	return fmt.Sprintf("%s %s [%s] %s", name, s.AddressType, strings.Join(ports, " "), endpointsSummary(s.Endpoints))
}

// endpointsSummary lists addresses with their conditions (r ready, s
// serving, t terminating) when there are few, a count otherwise.
func endpointsSummary(eps []discoveryv1.Endpoint) string {
	if len(eps) > 5 {
		return fmt.Sprintf("%d endpoints", len(eps))
	}
	var out []string
	for _, ep := range eps {
		c := ""
		for _, f := range []struct {
			v    *bool
			flag string
		}{{ep.Conditions.Ready, "r"}, {ep.Conditions.Serving, "s"}, {ep.Conditions.Terminating, "t"}} {
			if ptr.Deref(f.v, false) {
				c += f.flag
			}
		}
		out = append(out, strings.Join(ep.Addresses, ",")+"("+c+")")
	}
	return strings.Join(out, " ")
}

func sortedLabels(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}

func endpointLine(ep discoveryv1.Endpoint) string {
	hints := "<nil>"
	if h := ep.Hints; h != nil {
		var z, n []string
		for _, x := range h.ForZones {
			z = append(z, x.Name)
		}
		for _, x := range h.ForNodes {
			n = append(n, x.Name)
		}
		hints = fmt.Sprintf("zones[%s] nodes[%s]", strings.Join(z, " "), strings.Join(n, " "))
	}
	return fmt.Sprintf("%s r=%t s=%t t=%t node=%s zone=%s host=%s hints=%s", strings.Join(ep.Addresses, ","),
		*ep.Conditions.Ready, *ep.Conditions.Serving, *ep.Conditions.Terminating,
		ptr.Deref(ep.NodeName, ""), ptr.Deref(ep.Zone, ""), ptr.Deref(ep.Hostname, ""), hints)
}
