package printers

import (
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	eventreg "github.com/svcplane/svcplane/internal/apiserver/registry/event"
)

func node(mutate func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "node-1", CreationTimestamp: ago(800 * 24 * time.Hour)},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue},
			},
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeHostName, Address: "node-1"},
				{Type: corev1.NodeInternalIP, Address: "192.168.0.11"},
				{Type: corev1.NodeInternalIP, Address: "fd00::11"},
			},
			NodeInfo: corev1.NodeSystemInfo{
				KubeletVersion: "v1.32.4", OSImage: "Debian GNU/Linux 13 (trixie)",
				KernelVersion: "6.12.0-1-amd64", ContainerRuntimeVersion: "svcplane://0.1.0",
			},
		},
	}
	if mutate != nil {
		mutate(n)
	}
	return n
}

func TestNodeRows(t *testing.T) {
	const info = " | v1.32.4 | 192.168.0.11 | <none> | Debian GNU/Linux 13 (trixie) | 6.12.0-1-amd64 | svcplane://0.1.0"
	testRows(t, schema.GroupResource{Resource: "nodes"}, []rowCase{
		{"ready, no roles", node(nil), "node-1 | Ready | <none> | 2y70d" + info},
		{"not ready, cordoned", node(func(n *corev1.Node) {
			n.Status.Conditions[1].Status = corev1.ConditionFalse
			n.Spec.Unschedulable = true
		}), "node-1 | NotReady,SchedulingDisabled | <none> | 2y70d" + info},
		{"ready condition unknown", node(func(n *corev1.Node) {
			n.Status.Conditions[1].Status = corev1.ConditionUnknown
		}), "node-1 | NotReady | <none> | 2y70d" + info},
		{"no ready condition", node(func(n *corev1.Node) { n.Status.Conditions = nil }),
			"node-1 | Unknown | <none> | 2y70d" + info},
		{"roles from both labels, sorted, deduplicated", node(func(n *corev1.Node) {
			n.Labels = map[string]string{
				"node-role.kubernetes.io/worker":        "",
				"node-role.kubernetes.io/control-plane": "",
				"node-role.kubernetes.io/":              "",
				"kubernetes.io/role":                    "worker",
				"kubernetes.io/hostname":                "node-1",
			}
		}), "node-1 | Ready | control-plane,worker | 2y70d" + info},
		{"empty kubernetes.io/role", node(func(n *corev1.Node) {
			n.Labels = map[string]string{"kubernetes.io/role": ""}
		}), "node-1 | Ready | <none> | 2y70d" + info},
		{"external ip, no node info", node(func(n *corev1.Node) {
			n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeExternalIP, Address: "203.0.113.7"}}
			n.Status.NodeInfo = corev1.NodeSystemInfo{}
		}), "node-1 | Ready | <none> | 2y70d |  | <none> | 203.0.113.7 | <unknown> | <unknown> | <unknown>"},
	})
}

func TestNamespaceConfigMapLeaseRows(t *testing.T) {
	terminating := &corev1.Namespace{ObjectMeta: objMeta("old", 3*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}
	testRows(t, schema.GroupResource{Resource: "namespaces"}, []rowCase{
		{"active", &corev1.Namespace{ObjectMeta: objMeta("default", 20*24*time.Hour), Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
			"default | Active | 20d"},
		{"terminating", terminating, "old | Terminating | 3h"},
		{"no phase, no creation time", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "new"}}, "new |  | <unknown>"},
	})
	testRows(t, schema.GroupResource{Resource: "configmaps"}, []rowCase{
		{"empty", &corev1.ConfigMap{ObjectMeta: objMeta("empty", time.Minute)}, "empty | 0 | 60s"},
		{"data and binary data", &corev1.ConfigMap{
			ObjectMeta: objMeta("kube-root-ca.crt", time.Hour),
			Data:       map[string]string{"ca.crt": "...", "b": "2"},
			BinaryData: map[string][]byte{"bin": {1}},
		}, "kube-root-ca.crt | 3 | 60m"},
	})
	testRows(t, schema.GroupResource{Group: "coordination.k8s.io", Resource: "leases"}, []rowCase{
		{"held", &coordinationv1.Lease{ObjectMeta: objMeta("node-1", 2*time.Hour), Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr("node-1")}},
			"node-1 | node-1 | 120m"},
		{"not held", &coordinationv1.Lease{ObjectMeta: objMeta("svcplane-controllers", 5*time.Minute)}, "svcplane-controllers |  | 5m"},
	})
}

func TestSecretServiceAccountRows(t *testing.T) {
	testRows(t, schema.GroupResource{Resource: "secrets"}, []rowCase{
		{"tls", &corev1.Secret{ObjectMeta: objMeta("web-tls", time.Hour), Type: corev1.SecretTypeTLS,
			Data: map[string][]byte{"tls.crt": {1}, "tls.key": {2}}}, "web-tls | kubernetes.io/tls | 2 | 60m"},
		{"opaque, empty", &corev1.Secret{ObjectMeta: objMeta("empty", time.Minute), Type: corev1.SecretTypeOpaque}, "empty | Opaque | 0 | 60s"},
	})
	testRows(t, schema.GroupResource{Resource: "serviceaccounts"}, []rowCase{
		{"default", &corev1.ServiceAccount{ObjectMeta: objMeta("default", 3*24*time.Hour)}, "default | 0 | 3d"},
		{"with a secret", &corev1.ServiceAccount{ObjectMeta: objMeta("builder", 5*time.Minute),
			Secrets: []corev1.ObjectReference{{Name: "builder-token"}}}, "builder | 1 | 5m"},
	})
}

func event(mutate func(*corev1.Event)) *corev1.Event {
	e := &corev1.Event{
		ObjectMeta:     objMeta("web-0.182f4c1a2b3c4d5e", 10*time.Minute),
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web-0", FieldPath: "spec.containers{app}"},
		Reason:         "BackOff",
		Message:        "  Back-off restarting failed container app\n",
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: ago(10 * time.Minute),
		LastTimestamp:  ago(2 * time.Minute),
		Count:          5,
		Type:           corev1.EventTypeWarning,
	}
	if mutate != nil {
		mutate(e)
	}
	return e
}

func TestEventRows(t *testing.T) {
	micro := func(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(testNow.Add(-d)) }
	testRows(t, schema.GroupResource{Resource: "events"}, []rowCase{
		{"core event", event(nil),
			"2m | Warning | BackOff | pod/web-0 | spec.containers{app} | kubelet, node-1 | Back-off restarting failed container app | 10m | 5 | web-0.182f4c1a2b3c4d5e"},
		{"events.k8s.io singleton", event(func(e *corev1.Event) {
			e.FirstTimestamp, e.LastTimestamp, e.Count = metav1.Time{}, metav1.Time{}, 0
			e.EventTime = micro(30 * time.Second)
			e.Source = corev1.EventSource{}
			e.ReportingController, e.ReportingInstance = "default-scheduler", ""
			e.Type, e.Reason, e.Message = corev1.EventTypeNormal, "Scheduled", "Successfully assigned default/web-0 to node-1"
			e.InvolvedObject.FieldPath = ""
		}), "30s | Normal | Scheduled | pod/web-0 |  | default-scheduler | Successfully assigned default/web-0 to node-1 | 30s | 1 | web-0.182f4c1a2b3c4d5e"},
		{"series", event(func(e *corev1.Event) {
			e.Series = &corev1.EventSeries{Count: 7, LastObservedTime: micro(20 * time.Second)}
			e.Source.Host, e.ReportingInstance = "", "node-2"
		}), "20s | Warning | BackOff | pod/web-0 | spec.containers{app} | kubelet, node-2 | Back-off restarting failed container app | 10m | 7 | web-0.182f4c1a2b3c4d5e"},
		{"no times, object without name", event(func(e *corev1.Event) {
			e.FirstTimestamp, e.LastTimestamp = metav1.Time{}, metav1.Time{}
			e.InvolvedObject = corev1.ObjectReference{Kind: "Node"}
			e.Source = corev1.EventSource{Component: "kubelet"}
		}), "<unknown> | Warning | BackOff | node |  | kubelet | Back-off restarting failed container app | <unknown> | 5 | web-0.182f4c1a2b3c4d5e"},
	})
}

// TestEventsV1Rows: events.k8s.io/v1 Events print as the same object does
// through core/v1.
func TestEventsV1Rows(t *testing.T) {
	micro := func(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(testNow.Add(-d)) }
	v1 := eventreg.FromCore(event(nil))
	series := eventreg.FromCore(event(func(e *corev1.Event) {
		e.Series = &corev1.EventSeries{Count: 7, LastObservedTime: micro(20 * time.Second)}
	}))
	testRows(t, schema.GroupResource{Group: "events.k8s.io", Resource: "events"}, []rowCase{
		{"deprecated fields", v1,
			"2m | Warning | BackOff | pod/web-0 | spec.containers{app} | kubelet, node-1 | Back-off restarting failed container app | 10m | 5 | web-0.182f4c1a2b3c4d5e"},
		{"series", series,
			"20s | Warning | BackOff | pod/web-0 | spec.containers{app} | kubelet, node-1 | Back-off restarting failed container app | 10m | 7 | web-0.182f4c1a2b3c4d5e"},
	})
}

func TestResourceQuotaRows(t *testing.T) {
	q := &corev1.ResourceQuota{ObjectMeta: objMeta("compute", time.Hour), Status: corev1.ResourceQuotaStatus{
		Hard: corev1.ResourceList{"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("2"),
			"limits.memory": resource.MustParse("2Gi"), "limits.cpu": resource.MustParse("4")},
		Used: corev1.ResourceList{"pods": resource.MustParse("3"), "requests.cpu": resource.MustParse("500m"),
			"limits.cpu": resource.MustParse("1")},
	}}
	testRows(t, schema.GroupResource{Resource: "resourcequotas"}, []rowCase{
		{"requests and limits", q, "compute | 60m | pods: 3/10, requests.cpu: 500m/2 | limits.cpu: 1/4, limits.memory: 0/2Gi"},
		{"no status yet", &corev1.ResourceQuota{ObjectMeta: objMeta("new", time.Minute)}, "new | 60s |  | "},
	})
}
