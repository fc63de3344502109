package integration

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestEventsTwoAPIs: one Event, two APIs. An event written through core/v1
// is read through events.k8s.io/v1 and the reverse, with the fields mapped
// as upstream maps them; kubectl lists both ways and `kubectl events`
// shows them.
func TestEventsTwoAPIs(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	core := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "legacy.1", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default"},
		Reason:         "Pulled", Message: "image pulled", Type: corev1.EventTypeNormal, Count: 3,
		Source:         corev1.EventSource{Component: "kubelet", Host: "node-1"},
		FirstTimestamp: metav1.Now(), LastTimestamp: metav1.Now(),
	}
	if _, err := c.Client.CoreV1().Events("default").Create(ctx, core, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := c.Client.EventsV1().Events("default").Get(ctx, "legacy.1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Note != "image pulled" || got.Regarding.Name != "web" || got.DeprecatedCount != 3 || got.DeprecatedSource.Host != "node-1" {
		t.Errorf("core event read through events.k8s.io: %+v", got)
	}
	v1 := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "reported.1", Namespace: "default"},
		EventTime:  metav1.NowMicro(), ReportingController: "kube-proxy", ReportingInstance: "kube-proxy-node-1",
		Action: "StartKubeProxy", Reason: "Starting", Note: "proxy started", Type: corev1.EventTypeNormal,
		Regarding: corev1.ObjectReference{Kind: "Node", Name: "node-1"},
	}
	if _, err := c.Client.EventsV1().Events("default").Create(ctx, v1, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	back, err := c.Client.CoreV1().Events("default").Get(ctx, "reported.1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Message != "proxy started" || back.InvolvedObject.Name != "node-1" || back.ReportingController != "kube-proxy" {
		t.Errorf("events.k8s.io event read through core/v1: %+v", back)
	}
	checkEventsKubectl(t, c)
	checkEventsV1Validation(t, c)
}

func checkEventsKubectl(t *testing.T, c *cluster) {
	t.Helper()
	for _, res := range []string{"events", "events.events.k8s.io", "events.v1.events.k8s.io"} {
		out := c.kubectl("get", res, "-n", "default")
		if h := header(out); h != "LAST SEEN TYPE REASON OBJECT MESSAGE" {
			t.Errorf("kubectl get %s: header %q", res, h)
		}
		for _, want := range []string{"pod/web", "image pulled", "node/node-1", "proxy started"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl get %s lacks %q:\n%s", res, want, out)
			}
		}
	}
	out := c.kubectl("events", "-n", "default")
	for _, want := range []string{"image pulled", "proxy started"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl events lacks %q:\n%s", want, out)
		}
	}
	names := c.kubectl("get", "events.events.k8s.io", "-n", "default", "--field-selector", "involvedObject.kind=Node", "-o", "name")
	if names != "event.events.k8s.io/reported.1\n" {
		t.Errorf("field selector involvedObject.kind=Node: %q", names)
	}
}

// checkEventsV1Validation: the events.k8s.io API refuses what upstream's
// strict validation refuses, with the core field names upstream reports.
func checkEventsV1Validation(t *testing.T, c *cluster) {
	t.Helper()
	bad := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default"},
		Regarding:  corev1.ObjectReference{Kind: "Pod", Name: "web", Namespace: "default"},
		Reason:     "Old", Type: corev1.EventTypeNormal, DeprecatedCount: 1,
	}
	_, err := c.Client.EventsV1().Events("default").Create(context.Background(), bad, metav1.CreateOptions{})
	if !apierrors.IsInvalid(err) || !strings.Contains(err.Error(), "eventTime: Required value") ||
		!strings.Contains(err.Error(), `count: Invalid value: "": needs to be unset`) {
		t.Errorf("events.k8s.io create without eventTime: %v", err)
	}
}
