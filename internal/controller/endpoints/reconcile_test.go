package endpoints

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

const trig = "endpoints.kubernetes.io/last-change-trigger-time=2025-01-02T03:04:05Z"

func TestReconcileSubsets(t *testing.T) {
	cases := []struct {
		name string
		svc  *corev1.Service
		pods []*corev1.Pod
		want string
	}{{
		name: "ready pods in addresses, the others in notReadyAddresses",
		svc:  service(),
		pods: []*corev1.Pod{pod("b", "10.0.0.2"), pod("a", "10.0.0.1"), pod("c", "10.0.0.3", unready())},
		want: `subset ports=[http:8080/TCP]
  ready 10.0.0.1 pod=a node=n1
  ready 10.0.0.2 pod=b node=n1
  notready 10.0.0.3 pod=c node=n1
`,
	}, {
		name: "pods without IP, finished or terminating are left out",
		svc:  service(),
		pods: []*corev1.Pod{
			pod("a", "10.0.0.1"), pod("noip", ""), pod("done", "10.0.0.2", phase(corev1.PodSucceeded)),
			pod("failed", "10.0.0.3", phase(corev1.PodFailed)), pod("going", "10.0.0.4", terminating()),
		},
		want: "subset ports=[http:8080/TCP]\n  ready 10.0.0.1 pod=a node=n1\n",
	}, {
		name: "publishNotReadyAddresses lists every pod, terminating ones too, as ready",
		svc:  service(publishNotReady()),
		pods: []*corev1.Pod{pod("a", "10.0.0.1", unready()), pod("b", "10.0.0.2", terminating())},
		want: "subset ports=[http:8080/TCP]\n  ready 10.0.0.1 pod=a node=n1\n  ready 10.0.0.2 pod=b node=n1\n",
	}, {
		name: "named targetPort resolved per pod by name and protocol",
		svc:  service(ports(namedPort("http", "web", corev1.ProtocolTCP))),
		pods: []*corev1.Pod{
			pod("a", "10.0.0.1", containerPort("web", 8080, corev1.ProtocolTCP)),
			pod("b", "10.0.0.2", containerPort("web", 9090, corev1.ProtocolTCP)),
			pod("c", "10.0.0.3", containerPort("web", 8080, corev1.ProtocolUDP)),
			pod("d", "10.0.0.4", containerPort("other", 8080, corev1.ProtocolTCP)),
		},
		want: `subset ports=[http:8080/TCP]
  ready 10.0.0.1 pod=a node=n1
subset ports=[http:9090/TCP]
  ready 10.0.0.2 pod=b node=n1
`,
	}, {
		name: "ports served by the same addresses share a subset",
		svc:  service(ports(namedPort("http", "web", corev1.ProtocolTCP), namedPort("metrics", "metrics", corev1.ProtocolTCP))),
		pods: []*corev1.Pod{
			pod("a", "10.0.0.1", containerPort("web", 80, corev1.ProtocolTCP), containerPort("metrics", 9100, corev1.ProtocolTCP)),
			pod("b", "10.0.0.2", containerPort("web", 80, corev1.ProtocolTCP), containerPort("metrics", 9100, corev1.ProtocolTCP)),
			pod("c", "10.0.0.3", containerPort("web", 80, corev1.ProtocolTCP)),
		},
		want: `subset ports=[http:80/TCP]
  ready 10.0.0.1 pod=a node=n1
  ready 10.0.0.2 pod=b node=n1
  ready 10.0.0.3 pod=c node=n1
subset ports=[metrics:9100/TCP]
  ready 10.0.0.1 pod=a node=n1
  ready 10.0.0.2 pod=b node=n1
`,
	}, {
		name: "hostname only when the subdomain is the Service's name",
		svc:  service(),
		pods: []*corev1.Pod{pod("a", "10.0.0.1", hostname("alpha", "web")), pod("b", "10.0.0.2", hostname("beta", "other"))},
		want: "subset ports=[http:8080/TCP]\n  ready 10.0.0.1 pod=a node=n1 host=alpha\n  ready 10.0.0.2 pod=b node=n1\n",
	}, {
		name: "headless without ports: a subset without ports",
		svc:  service(headless(), ports()),
		pods: []*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", unready())},
		want: "subset ports=[]\n  ready 10.0.0.1 pod=a node=n1\n  notready 10.0.0.2 pod=b node=n1\n",
	}, {
		name: "the primary family's IP is listed",
		svc:  service(families(corev1.IPv6Protocol, corev1.IPv4Protocol)),
		pods: []*corev1.Pod{pod("a", "10.0.0.1", extraIP("fd00::1")), pod("v4only", "10.0.0.2")},
		want: "subset ports=[http:8080/TCP]\n  ready fd00::1 pod=a node=n1\n",
	}, {
		name: "no pods: no subsets",
		svc:  service(),
		want: "",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Reconcile(Input{Service: tc.svc, Pods: tc.pods, TriggerTime: t0})
			if res.Op != OpCreate {
				t.Fatalf("op = %v, want create", res.Op)
			}
			got := describe(res.Endpoints)
			want := "labels: " + kvs(desiredLabels(tc.svc)) + "\nannotations: " + trig + "\n" + tc.want
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReconcileWrites(t *testing.T) {
	pods := []*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2")}
	stored := func(svc *corev1.Service, pods []*corev1.Pod) *corev1.Endpoints {
		ep := Reconcile(Input{Service: svc, Pods: pods, TriggerTime: t0}).Endpoints
		ep.ResourceVersion = "7"
		ep.Subsets[0].Addresses[0].TargetRef.ResourceVersion = "3"
		return ep
	}
	cases := []struct {
		name    string
		svc     *corev1.Service
		pods    []*corev1.Pod
		current *corev1.Endpoints
		trigger time.Time
		wantOp  Op
		want    string
	}{{
		name: "nothing changed (target resourceVersions aside): no write", svc: service(), pods: pods,
		current: stored(service(), pods), wantOp: OpNone,
	}, {
		name: "a pod turning unready: update", svc: service(),
		pods:    []*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", unready())},
		current: stored(service(), pods), trigger: t0.Add(time.Second), wantOp: OpUpdate,
		want: `labels: 
annotations: endpoints.kubernetes.io/last-change-trigger-time=2025-01-02T03:04:06Z
subset ports=[http:8080/TCP]
  ready 10.0.0.1 pod=a node=n1
  notready 10.0.0.2 pod=b node=n1
`,
	}, {
		name: "Service labels changed: update, trigger time removed when zero", svc: service(svcLabels("tier", "front")), pods: pods,
		current: stored(service(), pods), wantOp: OpUpdate,
		want: `labels: tier=front
annotations: 
subset ports=[http:8080/TCP]
  ready 10.0.0.1 pod=a node=n1
  ready 10.0.0.2 pod=b node=n1
`,
	}, {
		name: "headless Service: headless label, kept on no-op", svc: service(headless(), svcLabels("tier", "front")), pods: pods,
		current: stored(service(headless(), svcLabels("tier", "front")), pods), wantOp: OpNone,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := Reconcile(Input{Service: tc.svc, Pods: tc.pods, Current: tc.current, TriggerTime: tc.trigger})
			if res.Op != tc.wantOp {
				t.Fatalf("op = %v, want %v", res.Op, tc.wantOp)
			}
			if tc.wantOp == OpNone {
				return
			}
			if diff := cmp.Diff(tc.want, describe(res.Endpoints)); diff != "" {
				t.Errorf("endpoints (-want +got):\n%s", diff)
			}
			if res.Endpoints.ResourceVersion != "7" {
				t.Errorf("update lost the resourceVersion: %q", res.Endpoints.ResourceVersion)
			}
		})
	}
}

func TestReconcileCapacity(t *testing.T) {
	mk := func(ready, notReady int) []*corev1.Pod {
		var pods []*corev1.Pod
		for i := range ready + notReady {
			var opts []podOpt
			if i >= ready {
				opts = append(opts, unready())
			}
			pods = append(pods, pod(fmt.Sprintf("p%04d", i), fmt.Sprintf("10.1.%d.%d", i/250, i%250+1), opts...))
		}
		return pods
	}
	cases := []struct {
		name                  string
		ready, notReady       int
		wantReady, wantNotRdy int
		wantTruncated         bool
	}{
		{"exactly 1000: kept whole", 1000, 0, 1000, 0, false},
		{"1001 ready: trimmed to 1000", 1001, 0, 1000, 0, true},
		{"ready win over not ready", 900, 200, 900, 100, true},
		{"too many ready: not ready all dropped", 1100, 50, 1000, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep := Reconcile(Input{Service: service(), Pods: mk(tc.ready, tc.notReady)}).Endpoints
			r, n := count(ep.Subsets)
			if r != tc.wantReady || n != tc.wantNotRdy {
				t.Errorf("ready, notReady = %d, %d; want %d, %d", r, n, tc.wantReady, tc.wantNotRdy)
			}
			if _, got := ep.Annotations[corev1.EndpointsOverCapacity]; got != tc.wantTruncated {
				t.Errorf("over-capacity annotation present = %v, want %v", got, tc.wantTruncated)
			}
			again := Reconcile(Input{Service: service(), Pods: mk(tc.ready, tc.notReady), Current: ep})
			if again.Op != OpNone {
				t.Errorf("second reconcile over the stored result: op %v, want none", again.Op)
			}
		})
	}
}

func TestTruncateProportional(t *testing.T) {
	sub := func(ready, notReady int) corev1.EndpointSubset {
		var ss corev1.EndpointSubset
		for i := range ready {
			ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: fmt.Sprintf("10.0.%d.%d", i/200, i%200)})
		}
		for i := range notReady {
			ss.NotReadyAddresses = append(ss.NotReadyAddresses, corev1.EndpointAddress{IP: fmt.Sprintf("10.1.%d.%d", i/200, i%200)})
		}
		return ss
	}
	cases := []struct {
		name string
		in   []corev1.EndpointSubset
		want [][2]int // ready, notReady per subset
	}{
		{"not ready trimmed by share (400 fit, 3:1)", []corev1.EndpointSubset{sub(300, 450), sub(300, 150)}, [][2]int{{300, 300}, {300, 100}}},
		{"ready trimmed by share, subsets left empty dropped", []corev1.EndpointSubset{sub(800, 0), sub(400, 0), sub(0, 5)}, [][2]int{{667, 0}, {333, 0}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, truncated := truncate(tc.in)
			if !truncated {
				t.Fatal("not truncated")
			}
			var got [][2]int
			for _, ss := range out {
				got = append(got, [2]int{len(ss.Addresses), len(ss.NotReadyAddresses)})
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("sizes (-want +got):\n%s", diff)
			}
		})
	}
}
