package cluster

// records_test.go: tables for the API object → record conversions and
// the informer transforms.

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

func TestToService(t *testing.T) {
	flip := clusterIPService("demo", "flip", []string{"10.96.0.60"})
	flip.Spec.ExternalName = "stale.example.com"
	legacy := clusterIPService("demo", "legacy", []string{"10.96.0.70"})
	legacy.Spec.ClusterIPs = nil
	nodePort := clusterIPService("demo", "np", []string{"10.96.0.80"}, servicePort("HTTP", "", 80))
	nodePort.Spec.Type = corev1.ServiceTypeNodePort
	tolerant := headlessService("demo", "t", false)
	tolerant.Annotations = map[string]string{tolerateUnreadyAnnotation: "true"}
	tests := []struct {
		name string
		in   *corev1.Service
		want *service
	}{
		{"dual stack", clusterIPService("demo", "d", []string{"10.96.0.30", "fd00:96::30"}, servicePort("http", "TCP", 80)),
			&service{clusterIPs: addrs("10.96.0.30", "fd00:96::30"), ports: []port{{"http", "tcp", 80}}}},
		{"type wins over a stale externalName", flip, &service{clusterIPs: addrs("10.96.0.60"), ports: []port{}}},
		{"clusterIP when clusterIPs is empty", legacy, &service{clusterIPs: addrs("10.96.0.70"), ports: []port{}}},
		{"NodePort, port name lowercased, TCP by default", nodePort,
			&service{clusterIPs: addrs("10.96.0.80"), ports: []port{{"http", "tcp", 80}}}},
		{"headless", headlessService("demo", "h", true), &service{kind: kindHeadless, ports: []port{}, publishNotReady: true}},
		{"tolerate-unready annotation", tolerant, &service{kind: kindHeadless, ports: []port{}, publishNotReady: true}},
		{"ExternalName", externalService("demo", "e", "Foo.Example.com"),
			&service{kind: kindExternalName, externalName: "Foo.Example.com.", ports: []port{}}},
		{"ExternalName to an IP", externalService("demo", "e", "1.2.3.4"),
			&service{kind: kindExternalName, ports: []port{}}},
		{"ExternalName empty", externalService("demo", "e", ""), &service{kind: kindExternalName, ports: []port{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := toService(tt.in)
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(service{}, port{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("toService (-want +got):\n%s", diff)
			}
		})
	}
}

func TestToSlice(t *testing.T) {
	unnamed := discoveryv1.EndpointPort{} // no name, protocol or port
	s := endpointSlice("demo", "s", "Web", []discoveryv1.EndpointPort{slicePort("http", "TCP", 8080), unnamed},
		readyEP("10.1.0.1", "Web-0"),
		discoveryv1.Endpoint{Addresses: []string{"10.1.0.2", "not-an-ip"}},
		notReadyEP("::ffff:10.1.0.3", ""),
	)
	svc, eps := toSlice(s)
	ports := []port{{"http", "tcp", 8080}, {"", "tcp", -1}}
	want := []endpoint{
		{addr: netip.MustParseAddr("10.1.0.1"), hostname: "web-0", ready: true, ports: ports},
		{addr: netip.MustParseAddr("10.1.0.2"), ready: true, ports: ports},
		{addr: netip.MustParseAddr("10.1.0.3"), ready: false, ports: ports},
	}
	if svc != "web" {
		t.Errorf("service = %q, want web", svc)
	}
	if diff := cmp.Diff(want, eps, cmp.AllowUnexported(endpoint{}, port{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("endpoints (-want +got):\n%s", diff)
	}
}

func TestEndpointLabel(t *testing.T) {
	tests := []struct {
		e    endpoint
		want string
	}{
		{endpoint{addr: netip.MustParseAddr("10.1.0.1"), hostname: "db-0"}, "db-0"},
		{endpoint{addr: netip.MustParseAddr("10.1.0.1")}, "10-1-0-1"},
		{endpoint{addr: netip.MustParseAddr("fd00::1")}, "fd00--1"},
		{endpoint{addr: netip.MustParseAddr("fd00:1:2:3:4:5:6:7")}, "fd00-1-2-3-4-5-6-7"},
	}
	for _, tt := range tests {
		if got := tt.e.label(); got != tt.want {
			t.Errorf("label(%v) = %q, want %q", tt.e.addr, got, tt.want)
		}
	}
}

func TestToPod(t *testing.T) {
	tests := []struct {
		name    string
		in      *corev1.Pod
		want    pod
		indexed bool
	}{
		{"running dual stack", testPod("demo", "p", corev1.PodRunning, "10.2.0.5", "fd00:2::5"),
			pod{ips: addrs("10.2.0.5", "fd00:2::5"), running: true}, true},
		{"pending", testPod("demo", "p", corev1.PodPending, "10.2.0.5"), pod{ips: addrs("10.2.0.5")}, true},
		{"no IP yet", testPod("demo", "p", corev1.PodPending), pod{}, false},
		{"succeeded", testPod("demo", "p", corev1.PodSucceeded, "10.2.0.5"), pod{}, false},
		{"failed", testPod("demo", "p", corev1.PodFailed, "10.2.0.5"), pod{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := toPod(tt.in)
			if ok != tt.indexed {
				t.Fatalf("toPod ok = %v, want %v", ok, tt.indexed)
			}
			if !ok {
				return
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(pod{}), cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
				t.Errorf("toPod (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTrim(t *testing.T) {
	meta := metav1.ObjectMeta{
		Namespace: "demo", Name: "web", ResourceVersion: "7", UID: "u",
		Labels:        map[string]string{"app": "web", discoveryv1.LabelServiceName: "web"},
		Annotations:   map[string]string{"big": "x"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}
	keptMeta := metav1.ObjectMeta{Namespace: "demo", Name: "web", ResourceVersion: "7", UID: "u"}
	svc := clusterIPService("demo", "web", []string{"10.96.0.20"}, corev1.ServicePort{Name: "http", Protocol: "TCP", Port: 80, NodePort: 30080})
	svc.ObjectMeta = meta
	svc.Spec.Selector = map[string]string{"app": "web"}
	slice := endpointSlice("demo", "web-1", "web", nil, readyEP("10.1.0.1", "h"))
	slice.ObjectMeta = meta
	slice.Endpoints[0].NodeName = ptrTo("node-1")
	p := testPod("demo", "web", corev1.PodRunning, "10.1.0.1")
	p.ObjectMeta = meta
	p.Spec.Containers = []corev1.Container{{Name: "c", Image: "i"}}

	tests := []struct {
		name string
		in   any
		want any
	}{
		{"service", svc, &corev1.Service{ObjectMeta: keptMeta, Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: "10.96.0.20", ClusterIPs: []string{"10.96.0.20"},
			Ports: []corev1.ServicePort{{Name: "http", Protocol: "TCP", Port: 80}},
		}}},
		{"endpointslice", slice, &discoveryv1.EndpointSlice{
			ObjectMeta:  withLabels(keptMeta, map[string]string{discoveryv1.LabelServiceName: "web"}),
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{readyEP("10.1.0.1", "h")},
		}},
		{"namespace", &corev1.Namespace{ObjectMeta: meta}, &corev1.Namespace{ObjectMeta: keptMeta}},
		{"pod", p, &corev1.Pod{ObjectMeta: keptMeta, Status: corev1.PodStatus{
			Phase: corev1.PodRunning, PodIP: "10.1.0.1", PodIPs: []corev1.PodIP{{IP: "10.1.0.1"}},
		}}},
		{"other types pass", "x", "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := trim(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("trim (-want +got):\n%s", diff)
			}
			again, _ := trim(got)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("trim is not idempotent (-once +twice):\n%s", diff)
			}
		})
	}
}

func withLabels(m metav1.ObjectMeta, labels map[string]string) metav1.ObjectMeta {
	m.Labels = labels
	return m
}
