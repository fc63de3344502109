package controllers

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/svcplane/svcplane/internal/controller/endpointslice"
)

func TestDeletedSliceIsRecreated(t *testing.T) {
	e := start(t)
	svc := e.service("web", intstr.FromInt32(8080))
	e.pod("web", "a", "10.244.0.11", true)
	e.eventually("slice written", func() string { return expect(e.slicesText("web"), "[8080] 10.244.0.11(r)") })
	old := e.slices("web")[0]
	if old.Labels[discoveryv1.LabelManagedBy] != endpointslice.ManagedBy || !strings.HasPrefix(old.Name, "web-") {
		t.Errorf("slice %s labels %v", old.Name, old.Labels)
	}
	if ref := old.OwnerReferences; len(ref) != 1 || ref[0].UID != svc.UID || ref[0].Controller == nil || !*ref[0].Controller {
		t.Errorf("owner references %+v", ref)
	}
	if z := old.Endpoints[0].Zone; z == nil || *z != "z1" {
		t.Errorf("zone %v, want z1", z)
	}
	e.must(nil, e.Client.DiscoveryV1().EndpointSlices(e.ns).Delete(e.ctx, old.Name, metav1.DeleteOptions{}))
	e.eventually("slice recreated", func() string {
		s := e.slices("web")
		if len(s) != 1 || s[0].Name == old.Name {
			return fmt.Sprintf("%d slices", len(s))
		}
		return expect(e.slicesText("web"), "[8080] 10.244.0.11(r)")
	})
}

func TestPlaceholderSliceForNoMatch(t *testing.T) {
	e := start(t)
	e.service("none", intstr.FromInt32(80))
	e.eventually("placeholder slice and empty Endpoints", func() string {
		s := e.slices("none")
		if len(s) != 1 || len(s[0].Endpoints) != 0 || len(s[0].Ports) != 0 || s[0].Labels[discoveryv1.LabelManagedBy] != endpointslice.ManagedBy {
			return fmt.Sprintf("slices %+v", s)
		}
		return expect(e.endpointsText("none"), "ready: ; notready: ")
	})
	e.pod("none", "a", "10.244.0.11", true)
	e.eventually("the placeholder filled in place", func() string { return expect(e.slicesText("none"), "[80] 10.244.0.11(r)") })
}

func TestThousandPodsBehindOneService(t *testing.T) {
	e := start(t)
	e.service("big", intstr.FromInt32(8080))
	e.pods("big", 0, 1000)
	e.eventually("10 slices of 100 and 1000 addresses", func() string {
		return expect(sliceSizes(e.slices("big")), "100 100 100 100 100 100 100 100 100 100") + e.endpointsCount("big", 1000, false)
	})
	e.pods("big", 1000, 1005)
	e.eventually("Endpoints truncated to 1000, annotated; the rest in an 11th slice", func() string {
		return expect(sliceSizes(e.slices("big")), "100 100 100 100 100 100 100 100 100 100 5") + e.endpointsCount("big", 1000, true)
	})
}

// pods creates ready pods big-<from>..big-<to-1> in parallel.
func (e *env) pods(app string, from, to int) {
	e.t.Helper()
	errs := make(chan error, to-from)
	sem := make(chan struct{}, 16)
	for i := from; i < to; i++ {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			errs <- e.readyPod(app, fmt.Sprintf("%s-%04d", app, i), fmt.Sprintf("10.244.%d.%d", i/250, i%250+1))
		}()
	}
	for i := from; i < to; i++ {
		if err := <-errs; err != nil {
			e.t.Fatal(err)
		}
	}
}

// readyPod is pod() for use off the test goroutine.
func (e *env) readyPod(app, name, ip string) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: e.ns, Labels: map[string]string{"app": app}},
		Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	created, err := e.Client.CoreV1().Pods(e.ns).Create(e.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}}
	_, err = e.Client.CoreV1().Pods(e.ns).UpdateStatus(e.ctx, created, metav1.UpdateOptions{})
	return err
}

func sliceSizes(slices []discoveryv1.EndpointSlice) string {
	var n []int
	for _, s := range slices {
		n = append(n, len(s.Endpoints))
	}
	sort.Sort(sort.Reverse(sort.IntSlice(n)))
	return strings.Trim(fmt.Sprint(n), "[]")
}

// endpointsCount checks the number of addresses and the over-capacity
// annotation.
func (e *env) endpointsCount(name string, want int, truncated bool) string {
	ep, err := e.Client.CoreV1().Endpoints(e.ns).Get(e.ctx, name, metav1.GetOptions{})
	if err != nil {
		return err.Error()
	}
	n := 0
	for _, ss := range ep.Subsets {
		n += len(ss.Addresses) + len(ss.NotReadyAddresses)
	}
	got := ep.Annotations[corev1.EndpointsOverCapacity] == "truncated"
	if n != want || got != truncated {
		return fmt.Sprintf("%d addresses, truncated=%v; want %d, %v", n, got, want, truncated)
	}
	return ""
}
