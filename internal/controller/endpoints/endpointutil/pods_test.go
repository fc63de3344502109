package endpointutil

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

func testPod(mod func(*corev1.Pod)) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", ResourceVersion: "1", Labels: map[string]string{"app": "web"}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: "10.0.0.1", PodIPs: []corev1.PodIP{{IP: "10.0.0.1"}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if mod != nil {
		mod(p)
	}
	return p
}

func TestShouldPodBeInEndpoints(t *testing.T) {
	now := metav1.Now()
	cases := []struct {
		name               string
		mod                func(*corev1.Pod)
		includeTerminating bool
		want               bool
	}{
		{"running with IP", nil, false, true},
		{"no IP", func(p *corev1.Pod) { p.Status.PodIP, p.Status.PodIPs = "", nil }, false, false},
		{"only podIP (older writers)", func(p *corev1.Pod) { p.Status.PodIPs = nil }, false, true},
		{"succeeded", func(p *corev1.Pod) { p.Status.Phase = corev1.PodSucceeded }, true, false},
		{"failed", func(p *corev1.Pod) { p.Status.Phase = corev1.PodFailed }, true, false},
		{"terminating", func(p *corev1.Pod) { p.DeletionTimestamp = &now }, false, false},
		{"terminating, included", func(p *corev1.Pod) { p.DeletionTimestamp = &now }, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ShouldPodBeInEndpoints(testPod(tc.mod), tc.includeTerminating); got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFindPort(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Ports: []corev1.ContainerPort{
			{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP},
			{Name: "dns", ContainerPort: 5353, Protocol: corev1.ProtocolUDP},
		}}},
		InitContainers: []corev1.Container{
			{RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways), Ports: []corev1.ContainerPort{{Name: "proxy", ContainerPort: 15001, Protocol: corev1.ProtocolTCP}}},
			{Ports: []corev1.ContainerPort{{Name: "init", ContainerPort: 1, Protocol: corev1.ProtocolTCP}}},
		},
	}}
	cases := []struct {
		name   string
		target intstr.IntOrString
		proto  corev1.Protocol
		want   int32
		wantOK bool
	}{
		{"number used as is", intstr.FromInt32(9000), corev1.ProtocolTCP, 9000, true},
		{"name and protocol match", intstr.FromString("http"), corev1.ProtocolTCP, 8080, true},
		{"protocol differs", intstr.FromString("dns"), corev1.ProtocolTCP, 0, false},
		{"sidecar init container", intstr.FromString("proxy"), corev1.ProtocolTCP, 15001, true},
		{"plain init container ignored", intstr.FromString("init"), corev1.ProtocolTCP, 0, false},
		{"unknown name", intstr.FromString("nope"), corev1.ProtocolTCP, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := FindPort(pod, &corev1.ServicePort{TargetPort: tc.target, Protocol: tc.proto})
			if got != tc.want || ok != tc.wantOK {
				t.Errorf("got %d, %v; want %d, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestParseIP(t *testing.T) {
	cases := []struct{ in, want string }{
		{"10.0.0.1", "10.0.0.1"}, {"010.000.000.001", "10.0.0.1"}, {"fd00:0::1", "fd00::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"}, {"10.0.0", ""}, {"1.2.3.256", ""}, {"host", ""}, {"", ""},
	}
	for _, tc := range cases {
		ip, ok := ParseIP(tc.in)
		got := ""
		if ok {
			got = ip.String()
		}
		if got != tc.want {
			t.Errorf("ParseIP(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAddressTypes(t *testing.T) {
	v4, v6 := discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6
	cases := []struct {
		name      string
		families  []corev1.IPFamily
		clusterIP string
		want      []discoveryv1.AddressType
	}{
		{"families in order", []corev1.IPFamily{corev1.IPv6Protocol, corev1.IPv4Protocol}, "fd00::10", []discoveryv1.AddressType{v6, v4}},
		{"no families: cluster IP's", nil, "fd00::10", []discoveryv1.AddressType{v6}},
		{"no families, headless: both", nil, "None", []discoveryv1.AddressType{v4, v6}},
	}
	for _, tc := range cases {
		svc := &corev1.Service{Spec: corev1.ServiceSpec{IPFamilies: tc.families, ClusterIP: tc.clusterIP}}
		if diff := cmp.Diff(tc.want, AddressTypes(svc)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestServicesForPodUpdate(t *testing.T) {
	svcs := []*corev1.Service{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "web"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "api"}, Spec: corev1.ServiceSpec{Selector: map[string]string{"app": "api"}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "all"}, Spec: corev1.ServiceSpec{Selector: map[string]string{}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "manual"}},
	}
	list := func(string, map[string]string) ([]*corev1.Service, error) { return svcs, nil }
	cases := []struct {
		name string
		mod  func(*corev1.Pod)
		want []string
	}{
		{"resync (same resourceVersion)", func(p *corev1.Pod) { p.ResourceVersion = "1" }, nil},
		{"annotation only", func(p *corev1.Pod) { p.Annotations = map[string]string{"a": "b"} }, nil},
		{"readiness", func(p *corev1.Pod) { p.Status.Conditions[0].Status = corev1.ConditionFalse }, []string{"ns/all", "ns/web"}},
		{"IP", func(p *corev1.Pod) { p.Status.PodIPs[0].IP = "10.0.0.2" }, []string{"ns/all", "ns/web"}},
		{"labels only: membership changes", func(p *corev1.Pod) { p.Labels = map[string]string{"app": "api"} }, []string{"ns/api", "ns/web"}},
		{"labels and readiness: all", func(p *corev1.Pod) {
			p.Labels = map[string]string{"app": "api"}
			p.Status.Conditions[0].Status = corev1.ConditionFalse
		}, []string{"ns/all", "ns/api", "ns/web"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			old := testPod(nil)
			cur := testPod(func(p *corev1.Pod) { p.ResourceVersion = "2"; tc.mod(p) })
			got, err := ServicesForPodUpdate(list, old, cur)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTriggerTimeTracker(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "web", CreationTimestamp: metav1.NewTime(t0)}}
	readyAt := func(name string, at time.Time) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: corev1.PodStatus{Conditions: []corev1.PodCondition{
			{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(at)}}}}
	}
	tr := NewTriggerTimeTracker()
	steps := []struct {
		name string
		pods []*corev1.Pod
		want time.Time
	}{
		{"first sync: the Service's creation", []*corev1.Pod{readyAt("a", t0.Add(time.Minute))}, t0},
		{"nothing changed: zero", []*corev1.Pod{readyAt("a", t0.Add(time.Minute))}, time.Time{}},
		{"earliest changed pod", []*corev1.Pod{readyAt("a", t0.Add(3*time.Minute)), readyAt("b", t0.Add(2*time.Minute))}, t0.Add(2 * time.Minute)},
		{"pod removed: zero", []*corev1.Pod{readyAt("a", t0.Add(3*time.Minute))}, time.Time{}},
	}
	for _, s := range steps {
		if got := tr.Compute(svc, s.pods); !got.Equal(s.want) {
			t.Errorf("%s: got %v, want %v", s.name, got, s.want)
		}
	}
	tr.Forget("ns", "web")
	if got := tr.Compute(svc, nil); !got.Equal(t0) {
		t.Errorf("after Forget: got %v, want the creation time", got)
	}
}
