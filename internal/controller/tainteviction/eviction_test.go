package tainteviction

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"
)

var unreachable = corev1.Taint{Key: "node.kubernetes.io/unreachable", Effect: corev1.TaintEffectNoExecute}

func tolerating(seconds *int64) []corev1.Toleration {
	return []corev1.Toleration{{Key: unreachable.Key, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute, TolerationSeconds: seconds}}
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	other := corev1.Taint{Key: "example.com/drain", Effect: corev1.TaintEffectNoExecute}
	cases := []struct {
		name   string
		tols   []corev1.Toleration
		taints []corev1.Taint
		want   Decision
	}{
		{"no taints", nil, nil, Decision{}},
		{"not tolerated: now", nil, []corev1.Taint{unreachable}, Decision{Evict: true}},
		{"tolerated for 300s", tolerating(ptr.To[int64](300)), []corev1.Taint{unreachable}, Decision{Evict: true, At: t0.Add(300 * time.Second)}},
		{"negative seconds count as 0", tolerating(ptr.To[int64](-5)), []corev1.Taint{unreachable}, Decision{Evict: true, At: t0}},
		{"tolerated forever", tolerating(nil), []corev1.Taint{unreachable}, Decision{}},
		{"one taint of two not tolerated", tolerating(nil), []corev1.Taint{unreachable, other}, Decision{Evict: true}},
		{"the shortest of the used tolerations", append(tolerating(ptr.To[int64](300)),
			corev1.Toleration{Operator: corev1.TolerationOpExists, TolerationSeconds: ptr.To[int64](30)}), []corev1.Taint{unreachable, other},
			Decision{Evict: true, At: t0.Add(30 * time.Second)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pod := &corev1.Pod{Spec: corev1.PodSpec{Tolerations: tc.tols}}
			if got := Decide(pod, tc.taints, t0); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestControllerEvicts: on a node tainted unreachable:NoExecute, a pod
// that does not tolerate it is deleted at once (with the DisruptionTarget
// condition and the event), one tolerating it for a second a second
// later, and one tolerating it forever stays.
func TestControllerEvicts(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{unreachable}}}
	pod := func(name string, tols []corev1.Toleration) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default", UID: "uid-" + "name"},
			Spec: corev1.PodSpec{NodeName: "n1", Tolerations: tols}}
	}
	client := fake.NewSimpleClientset(node, pod("now", nil), pod("soon", tolerating(ptr.To[int64](1))), pod("never", tolerating(nil)))
	f := informers.NewSharedInformerFactory(client, 0)
	rec := record.NewFakeRecorder(10)
	c, err := New(Config{Client: client, Nodes: f.Core().V1().Nodes(), Pods: f.Core().V1().Pods(), Recorder: rec,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	start := time.Now()
	go c.Run(ctx, 2)
	gone := func(name string) bool {
		_, err := client.CoreV1().Pods("default").Get(ctx, name, metav1.GetOptions{})
		return err != nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for !(gone("now") && gone("soon")) {
		if time.Now().After(deadline) {
			t.Fatalf("pods not evicted: now gone=%v soon gone=%v", gone("now"), gone("soon"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("the pod tolerating 1s went after %s", waited)
	}
	if gone("never") {
		t.Error("the pod tolerating the taint forever was evicted")
	}
	if ev := <-rec.Events; ev != "Normal TaintManagerEviction Marking for deletion Pod default/now" && ev != "Normal TaintManagerEviction Marking for deletion Pod default/soon" {
		t.Errorf("event %q", ev)
	}
}
