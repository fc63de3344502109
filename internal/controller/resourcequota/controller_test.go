package resourcequota

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func podIn(ns, name string, phase corev1.PodPhase, cpu string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: phase},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}}}
	if cpu != "" {
		p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}
	}
	return p
}

func TestSyncWritesStatus(t *testing.T) {
	q := &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "q"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{"pods": resource.MustParse("2"),
			"requests.cpu": resource.MustParse("1"), "services": resource.MustParse("5"), "count/configmaps": resource.MustParse("9")}}}
	objs := []runtime.Object{q,
		podIn("ns", "a", corev1.PodRunning, "100m"), podIn("ns", "b", corev1.PodPending, "250m"),
		podIn("ns", "done", corev1.PodSucceeded, "1"), podIn("other", "x", corev1.PodRunning, "1"),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cm"}},
	}
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Informer: f.Core().V1()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	f.Start(ctx.Done())
	f.WaitForCacheSync(ctx.Done())
	if err := c.sync(ctx, "ns/q"); err != nil {
		t.Fatal(err)
	}
	got, err := client.CoreV1().ResourceQuotas("ns").Get(ctx, "q", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[corev1.ResourceName]string{"pods": "2", "requests.cpu": "350m", "services": "0", "count/configmaps": "1"}
	if len(got.Status.Used) != len(want) {
		t.Fatalf("used %v, want %v", got.Status.Used, want)
	}
	for k, v := range want {
		if q := got.Status.Used[k]; q.String() != v {
			t.Errorf("used[%s] = %s, want %s", k, q.String(), v)
		}
	}
	if h := got.Status.Hard["pods"]; h.String() != "2" {
		t.Errorf("status.hard pods = %s, want 2", h.String())
	}
}

func TestMayRelease(t *testing.T) {
	now := time.Now()
	running, done := podIn("ns", "a", corev1.PodRunning, ""), podIn("ns", "a", corev1.PodFailed, "")
	deleting := running.DeepCopy()
	deleting.DeletionTimestamp = &metav1.Time{Time: now}
	if !mayRelease(running, done, now) || !mayRelease(running, deleting, now) || mayRelease(running, running, now) {
		t.Error("pod transitions misjudged")
	}
	a := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort}}
	b := &corev1.Service{Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP}}
	if !mayRelease(a, b, now) || mayRelease(a, a, now) {
		t.Error("service transitions misjudged")
	}
}
