package endpointslice

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// stored is the slices a first reconcile creates.
func stored(svc *corev1.Service, p []*corev1.Pod, max int) []*discoveryv1.EndpointSlice {
	return existing(Reconcile(Input{Service: svc, Pods: p, Nodes: nodes("a"), MaxEndpointsPerSlice: max}))
}

func TestReconcile(t *testing.T) {
	three := pods(3)
	svc := service()
	cases := []struct {
		name   string
		svc    *corev1.Service
		pods   []*corev1.Pod
		slices []*discoveryv1.EndpointSlice
		nodes  map[string]*corev1.Node
		max    int
		want   string
	}{{
		name: "no pods: one placeholder slice",
		want: "create web-* IPv4 [] \n",
	}, {
		name:   "placeholder already there: nothing to write",
		slices: stored(svc, nil, 100),
	}, {
		name: "pods appear: the placeholder is rewritten, not replaced",
		pods: three, slices: stored(svc, nil, 100),
		want: "update web-1 IPv4 [http:8080] 10.0.0.1(rs) 10.0.0.2(rs) 10.0.0.3(rs)\n",
	}, {
		name:   "pods go: back to a placeholder through an update",
		slices: stored(svc, three, 100),
		want:   "update web-1 IPv4 [] \n",
	}, {
		name: "250 pods, 100 per slice: 100+100+50",
		pods: pods(250),
		want: "create web-* IPv4 [http:8080] 100 endpoints\ncreate web-* IPv4 [http:8080] 100 endpoints\ncreate web-* IPv4 [http:8080] 50 endpoints\n",
	}, {
		name: "1000 pods: 10 slices of 100",
		pods: pods(1000),
		want: strings.Repeat("create web-* IPv4 [http:8080] 100 endpoints\n", 10),
	}, {
		name: "max 2 per slice",
		pods: three, max: 2,
		want: "create web-* IPv4 [http:8080] 10.0.0.1(rs) 10.0.0.2(rs)\ncreate web-* IPv4 [http:8080] 10.0.0.3(rs)\n",
	}, {
		name:   "one pod turning unready rewrites only its slice",
		pods:   append(pods(250)[:120:120], append([]*corev1.Pod{pod("p120", "10.0.0.121", unready())}, pods(250)[121:]...)...),
		slices: stored(svc, pods(250), 100),
		want:   "update web-2 IPv4 [http:8080] 100 endpoints\n",
	}, {
		name: "a new pod goes into the unchanged slice it fills closest to full",
		pods: append(pods(250), pod("new", "10.9.9.9")), slices: stored(svc, pods(250), 100),
		want: "update web-3 IPv4 [http:8080] 51 endpoints\n",
	}, {
		name: "new pods fill unchanged slices with room before a new slice is made",
		pods: pods(230), slices: stored(svc, pods(250)[:190], 100),
		want: "create web-* IPv4 [http:8080] 30 endpoints\nupdate web-2 IPv4 [http:8080] 100 endpoints\n",
	}, {
		name: "several unchanged slices with room, most room first",
		pods: pods(200), slices: append(stored(svc, pods(250)[:80], 100), renamedSlices(stored(svc, pods(250)[80:170], 100), "web-9")...),
		want: "update web-1 IPv4 [http:8080] 100 endpoints\nupdate web-9 IPv4 [http:8080] 100 endpoints\n",
	}, {
		name: "a slice losing a pod is topped up with the new one",
		pods: append(pods(250)[1:], pod("new", "10.9.9.9")), slices: stored(svc, pods(250), 100),
		want: "update web-1 IPv4 [http:8080] 100 endpoints\n",
	}, {
		name: "a deleted slice is recreated",
		pods: pods(250), slices: dropSlice(stored(svc, pods(250), 100), 1),
		want: "create web-* IPv4 [http:8080] 100 endpoints\n",
	}, {
		name: "pods not ready or terminating: conditions",
		pods: []*corev1.Pod{pod("a", "10.0.0.1", unready()), pod("b", "10.0.0.2", terminating())},
		want: "create web-* IPv4 [http:8080] 10.0.0.1() 10.0.0.2(st)\n",
	}, {
		name: "publishNotReadyAddresses: all ready",
		svc:  service(func(s *corev1.Service) { s.Spec.PublishNotReadyAddresses = true }),
		pods: []*corev1.Pod{pod("a", "10.0.0.1", unready()), pod("b", "10.0.0.2", terminating())},
		want: "create web-* IPv4 [http:8080] 10.0.0.1(r) 10.0.0.2(rst)\n",
	}, {
		name: "named targetPort: one slice per resolved port list",
		svc: service(func(s *corev1.Service) {
			s.Spec.Ports[0].TargetPort = intstr.FromString("web")
		}),
		pods: []*corev1.Pod{pod("a", "10.0.0.1", containerPort("web", 80)), pod("b", "10.0.0.2", containerPort("web", 81)), pod("c", "10.0.0.3")},
		want: "create web-* IPv4 [http:80] 10.0.0.1(rs)\ncreate web-* IPv4 [http:81] 10.0.0.2(rs)\ncreate web-* IPv4 [] 10.0.0.3(rs)\n",
	}, {
		name: "a pod on a missing node is left out and reported",
		pods: []*corev1.Pod{pod("a", "10.0.0.1"), pod("b", "10.0.0.2", onNode("gone"))},
		want: "create web-* IPv4 [http:8080] 10.0.0.1(rs)\nmissing nodes [gone]\n",
	}, {
		name: "dual stack: slices per family, pods without the family's IP left out",
		svc: service(func(s *corev1.Service) {
			s.Spec.IPFamilies = []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol}
		}),
		pods: []*corev1.Pod{pod("a", "10.0.0.1", extraIP("fd00::1")), pod("b", "10.0.0.2")},
		want: "create web-* IPv4 [http:8080] 10.0.0.1(rs) 10.0.0.2(rs)\ncreate web-* IPv6 [http:8080] fd00::1(rs)\n",
	}, {
		name: "slices of a family the Service lost are deleted",
		svc:  service(), pods: three,
		slices: append(stored(svc, three, 100), &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-v6"}, AddressType: discoveryv1.AddressTypeIPv6}),
		want:   "delete web-v6\n",
	}, {
		name: "slices not owned by the Service are replaced",
		pods: three, slices: disown(stored(svc, three, 100)),
		want: "create web-* IPv4 [http:8080] 10.0.0.1(rs) 10.0.0.2(rs) 10.0.0.3(rs)\ndelete web-1\n",
	}, {
		name: "Service labels changed: every slice updated",
		svc:  service(func(s *corev1.Service) { s.Labels = map[string]string{"tier": "front"} }),
		pods: pods(150), slices: stored(svc, pods(150), 100),
		want: "update web-1 IPv4 [http:8080] 100 endpoints\nupdate web-2 IPv4 [http:8080] 50 endpoints\n",
	}, {
		name: "Service being deleted: nothing created",
		svc:  service(func(s *corev1.Service) { now := metav1.Now(); s.DeletionTimestamp = &now }),
		pods: three,
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Service: tc.svc, Pods: tc.pods, Slices: tc.slices, Nodes: tc.nodes, MaxEndpointsPerSlice: tc.max}
			if in.Service == nil {
				in.Service = svc
			}
			if in.Nodes == nil {
				in.Nodes = nodes("a")
			}
			if in.MaxEndpointsPerSlice == 0 {
				in.MaxEndpointsPerSlice = 100
			}
			if diff := cmp.Diff(tc.want, describe(Reconcile(in))); diff != "" {
				t.Errorf("plan (-want +got):\n%s", diff)
			}
		})
	}
}

func dropSlice(s []*discoveryv1.EndpointSlice, i int) []*discoveryv1.EndpointSlice {
	return append(s[:i:i], s[i+1:]...)
}

func renamedSlices(s []*discoveryv1.EndpointSlice, name string) []*discoveryv1.EndpointSlice {
	for _, x := range s {
		x.Name, x.UID = name, types.UID(name)
	}
	return s
}

func disown(s []*discoveryv1.EndpointSlice) []*discoveryv1.EndpointSlice {
	for _, x := range s {
		x.OwnerReferences[0].UID = "someone-else"
	}
	return s
}

func TestReconcileSliceMeta(t *testing.T) {
	svc := service(func(s *corev1.Service) {
		s.Spec.ClusterIP = corev1.ClusterIPNone
		s.Labels = map[string]string{"tier": "front", discoveryv1.LabelManagedBy: "someone"}
	})
	plan := Reconcile(Input{Service: svc, Pods: pods(1), Nodes: nodes("a"), MaxEndpointsPerSlice: 100, TriggerTime: t0})
	if len(plan.Create) != 1 {
		t.Fatalf("plan: %s", describe(plan))
	}
	s := plan.Create[0]
	wantLabels := "endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io,kubernetes.io/service-name=web,service.kubernetes.io/headless=,tier=front"
	if got := sortedLabels(s.Labels); got != wantLabels {
		t.Errorf("labels %s\nwant   %s", got, wantLabels)
	}
	if got := s.Annotations[corev1.EndpointsLastChangeTriggerTime]; got != "2025-01-02T03:04:05Z" {
		t.Errorf("trigger time %q", got)
	}
	ref := s.OwnerReferences[0]
	if s.GenerateName != "web-" || ref.Kind != "Service" || ref.APIVersion != "v1" || ref.UID != "svc-uid" || !*ref.Controller {
		t.Errorf("name/owner: %q %+v", s.GenerateName, ref)
	}
}

func TestPodEndpoint(t *testing.T) {
	prefer := func(td string) svcOpt {
		return func(s *corev1.Service) { s.Spec.TrafficDistribution = &td }
	}
	cases := []struct {
		name string
		svc  *corev1.Service
		pod  *corev1.Pod
		node *corev1.Node
		want string
	}{
		{"zone, node", service(), pod("a", "10.0.0.1"), nodes("z1")["n1"], "10.0.0.1 r=true s=true t=false node=n1 zone=z1 host= hints=<nil>"},
		{"no node object", service(), pod("a", "10.0.0.1"), nil, "10.0.0.1 r=true s=true t=false node=n1 zone= host= hints=<nil>"},
		{"hostname for its subdomain", service(), pod("a", "10.0.0.1", hostname("alpha", "web")), nil, "10.0.0.1 r=true s=true t=false node=n1 zone= host=alpha hints=<nil>"},
		{"hostname of another subdomain", service(), pod("a", "10.0.0.1", hostname("alpha", "db")), nil, "10.0.0.1 r=true s=true t=false node=n1 zone= host= hints=<nil>"},
		{"terminating ready pod: serving, not ready", service(), pod("a", "10.0.0.1", terminating()), nil, "10.0.0.1 r=false s=true t=true node=n1 zone= host= hints=<nil>"},
		{"PreferSameZone", service(prefer("PreferSameZone")), pod("a", "10.0.0.1"), nodes("z1")["n1"], "10.0.0.1 r=true s=true t=false node=n1 zone=z1 host= hints=zones[z1] nodes[]"},
		{"PreferSameNode", service(prefer("PreferSameNode")), pod("a", "10.0.0.1"), nodes("z1")["n1"], "10.0.0.1 r=true s=true t=false node=n1 zone=z1 host= hints=zones[z1] nodes[n1]"},
		{"hints only for ready endpoints", service(prefer("PreferClose")), pod("a", "10.0.0.1", unready()), nodes("z1")["n1"], "10.0.0.1 r=false s=false t=false node=n1 zone=z1 host= hints=<nil>"},
		{"topology-mode Auto: no hints", service(prefer("PreferClose"), func(s *corev1.Service) {
			s.Annotations = map[string]string{corev1.AnnotationTopologyMode: "Auto"}
		}), pod("a", "10.0.0.1"), nodes("z1")["n1"], "10.0.0.1 r=true s=true t=false node=n1 zone=z1 host= hints=<nil>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ep, ok := podEndpoint(tc.svc, tc.pod, tc.node, discoveryv1.AddressTypeIPv4)
			if !ok {
				t.Fatal("no endpoint")
			}
			if got := endpointLine(ep); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
