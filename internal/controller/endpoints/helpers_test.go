package endpoints

import (
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

type podOpt func(*corev1.Pod)

// pod returns a running pod on node n1 with the given IP (none when ""),
// labelled app=web and ready unless told otherwise.
func pod(name, ip string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c"}}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning},
	}
	if ip != "" {
		p.Status.PodIP = ip
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	readyCond(true)(p)
	for _, o := range opts {
		o(p)
	}
	return p
}

func readyCond(ready bool) podOpt {
	return func(p *corev1.Pod) {
		st := corev1.ConditionFalse
		if ready {
			st = corev1.ConditionTrue
		}
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.NewTime(t0)}}
	}
}

func unready() podOpt { return readyCond(false) }

func terminating() podOpt {
	return func(p *corev1.Pod) { now := metav1.NewTime(t0); p.DeletionTimestamp = &now }
}

func phase(ph corev1.PodPhase) podOpt { return func(p *corev1.Pod) { p.Status.Phase = ph } }

func extraIP(ip string) podOpt {
	return func(p *corev1.Pod) { p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip}) }
}

func hostname(host, subdomain string) podOpt {
	return func(p *corev1.Pod) { p.Spec.Hostname, p.Spec.Subdomain = host, subdomain }
}

func containerPort(name string, port int32, proto corev1.Protocol) podOpt {
	return func(p *corev1.Pod) {
		c := &p.Spec.Containers[0]
		c.Ports = append(c.Ports, corev1.ContainerPort{Name: name, ContainerPort: port, Protocol: proto})
	}
}

type svcOpt func(*corev1.Service)

// service returns Service ns/web selecting app=web with one TCP port 80
// -> 8080 unless told otherwise.
func service(opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns", UID: "svc-uid", CreationTimestamp: metav1.NewTime(t0.Add(-time.Hour))},
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

func ports(ps ...corev1.ServicePort) svcOpt { return func(s *corev1.Service) { s.Spec.Ports = ps } }

func headless() svcOpt {
	return func(s *corev1.Service) { s.Spec.ClusterIP = corev1.ClusterIPNone }
}

func publishNotReady() svcOpt {
	return func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }
}

func svcLabels(kv ...string) svcOpt {
	return func(s *corev1.Service) {
		s.Labels = map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			s.Labels[kv[i]] = kv[i+1]
		}
	}
}

func families(f ...corev1.IPFamily) svcOpt { return func(s *corev1.Service) { s.Spec.IPFamilies = f } }

func namedPort(name, target string, proto corev1.Protocol) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Port: 80, TargetPort: intstr.FromString(target), Protocol: proto}
}

// describe prints an Endpoints as readable lines: labels, annotations,
// then each subset's ports and addresses.
func describe(ep *corev1.Endpoints) string {
	if ep == nil {
		return "<nil>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "labels: %s\nannotations: %s\n", kvs(ep.Labels), kvs(ep.Annotations))
	for _, ss := range ep.Subsets {
		var ps []string
		for _, p := range ss.Ports {
			ps = append(ps, fmt.Sprintf("%s:%d/%s", p.Name, p.Port, p.Protocol))
		}
		fmt.Fprintf(&b, "subset ports=[%s]\n", strings.Join(ps, " "))
		for _, a := range ss.Addresses {
			fmt.Fprintf(&b, "  ready %s\n", addr(a))
		}
		for _, a := range ss.NotReadyAddresses {
			fmt.Fprintf(&b, "  notready %s\n", addr(a))
		}
	}
	return b.String()
}

func addr(a corev1.EndpointAddress) string {
	s := a.IP
	if a.TargetRef != nil {
		s += " pod=" + a.TargetRef.Name
	}
	if a.NodeName != nil {
		s += " node=" + *a.NodeName
	}
	if a.Hostname != "" {
		s += " host=" + a.Hostname
	}
	return s
}

func kvs(m map[string]string) string {
	var out []string
	for k, v := range m {
		out = append(out, k+"="+v)
	}
	slices.Sort(out)
	return strings.Join(out, ",")
}
