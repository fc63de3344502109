package dnsserver

import (
	"context"
	"log/slog"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestRecordRefused: each refused Corefile line becomes a Warning event
// UnsupportedCorefile on the server's pod, which `kubectl describe pod`
// shows.
func TestRecordRefused(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "coredns-7fd-abcde", Namespace: "kube-system", UID: "u1"}}
	client := fake.NewClientset(pod)
	n := 0
	client.PrependReactor("create", "events", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ev := a.(k8stesting.CreateAction).GetObject().(*corev1.Event)
		if ev.Name == "" { // the fake has no generateName
			n++
			ev.Name = ev.GenerateName + strconv.Itoa(n)
		}
		return false, nil, nil
	})
	cfg := Config{Logger: slog.New(slog.DiscardHandler), Refused: []Refusal{
		{Line: 7, Text: "loop", Reason: "plugin not supported by svcplane dns"},
		{Line: 9, Text: "rewrite name a b", Reason: "plugin not supported by svcplane dns"},
	}}
	recordRefused(context.Background(), client, cfg, "kube-system", pod.Name)
	evs, err := client.CoreV1().Events("kube-system").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs.Items) != 2 {
		t.Fatalf("%d events, want one per refused line: %+v", len(evs.Items), evs.Items)
	}
	for i, ev := range evs.Items {
		if ev.Type != corev1.EventTypeWarning || ev.Reason != "UnsupportedCorefile" || ev.InvolvedObject.UID != "u1" ||
			ev.InvolvedObject.Kind != "Pod" || ev.Message != cfg.Refused[i].String() {
			t.Errorf("event %d: %s %s on %+v: %q", i, ev.Type, ev.Reason, ev.InvolvedObject, ev.Message)
		}
	}
}
