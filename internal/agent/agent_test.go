package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/agent/runtime/simulated"
)

// startAgent runs an agent with the simulated runtime against a fake
// clientset.
func startAgent(t *testing.T) (*fake.Clientset, *Agent) {
	t.Helper()
	client := fake.NewSimpleClientset()
	return client, startAgentWith(t, client, func(*Config) {})
}

// startAgentWith runs an agent against client, its Config changed by edit.
func startAgentWith(t *testing.T, client *fake.Clientset, edit func(*Config)) *Agent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := Config{
		Client: client, NodeName: "n1", NodeIP: netip.MustParseAddr("10.240.0.2"), Port: 10250,
		PodCIDR: netip.MustParsePrefix("10.244.3.0/24"),
		NewRuntime: func(cidr netip.Prefix) (runtime.Runtime, error) {
			return simulated.New(simulated.Config{PodCIDR: cidr, NodeIP: netip.MustParseAddr("10.240.0.2")})
		},
		RuntimeName: "simulated", Images: images.NewResolver(images.Config{}), Self: "/svcplane",
		ClusterDNS: []string{"10.96.0.10"}, Resync: 200 * time.Millisecond,
		Recorder: record.NewFakeRecorder(1000), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	edit(&cfg)
	a := New(cfg)
	go func() { _ = a.Run(ctx) }()
	select {
	case <-a.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("agent not ready")
	}
	return a
}

func waitPod(t *testing.T, client *fake.Clientset, name string, cond func(*corev1.Pod, error) bool) *corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		p, err := client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
		if cond(p, err) {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("pod %s: condition not met; last %+v %v", name, p, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestAgentRegistersNodeAndLease(t *testing.T) {
	client, _ := startAgent(t)
	node, err := client.CoreV1().Nodes().Get(context.Background(), "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if node.Spec.PodCIDR != "10.244.3.0/24" || node.Labels[corev1.LabelHostname] != "n1" || node.Labels[corev1.LabelOSStable] != "linux" {
		t.Errorf("node spec/labels: %v %v", node.Spec.PodCIDR, node.Labels)
	}
	if node.Status.Addresses[0].Address != "10.240.0.2" || node.Status.DaemonEndpoints.KubeletEndpoint.Port != 10250 {
		t.Errorf("node status: %+v", node.Status)
	}
	lease, err := client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(context.Background(), "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("lease: %v", err)
	}
	if d := lease.Spec.LeaseDurationSeconds; d == nil || *d != 40 {
		t.Errorf("lease duration %v, want kubelet's 40", d)
	}
}

func TestAgentRunsAndDeletesPod(t *testing.T) {
	client, _ := startAgent(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default", UID: "u1"},
		Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "nginx", Image: "nginx"}}}}
	if _, err := client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitPod(t, client, "web", func(p *corev1.Pod, err error) bool {
		return err == nil && p.Status.Phase == corev1.PodRunning && p.Status.PodIP != ""
	})
	if got.Status.PodIP != "10.244.3.2" || got.Status.HostIP != "10.240.0.2" {
		t.Errorf("IPs: pod %s host %s", got.Status.PodIP, got.Status.HostIP)
	}
	if c := findCondition(got.Status.Conditions, corev1.PodReady); c == nil || c.Status != corev1.ConditionTrue {
		t.Errorf("not Ready: %+v", got.Status.Conditions)
	}
	// Graceful deletion: the API marks the pod; the agent stops it and
	// deletes it for good.
	got.DeletionTimestamp, got.DeletionGracePeriodSeconds = ptr.To(metav1.Now()), ptr.To[int64](30)
	if _, err := client.CoreV1().Pods("default").Update(context.Background(), got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, client, "web", func(_ *corev1.Pod, err error) bool { return apierrors.IsNotFound(err) })
}

func TestAgentReportsImageErrors(t *testing.T) {
	client, _ := startAgent(t)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "default", UID: "u2"},
		Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways, Containers: []corev1.Container{{Name: "c", Image: "example.com/app:1"}}}}
	if _, err := client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitPod(t, client, "bad", func(p *corev1.Pod, err error) bool {
		return err == nil && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Waiting != nil &&
			p.Status.ContainerStatuses[0].State.Waiting.Reason == reasonErrImagePull
	})
	if msg := got.Status.ContainerStatuses[0].State.Waiting.Message; !strings.Contains(msg, `image not present on the node: "example.com/app:1"`) || !strings.Contains(msg, "svcplane images import") {
		t.Errorf("message %q", msg)
	}
	if got.Status.Phase != corev1.PodPending {
		t.Errorf("phase %s", got.Status.Phase)
	}
}

// TestAgentReadinessStartsFalse: a container with a readiness probe that
// never passes is never reported ready, not even in the status written
// right after it starts (before its probe worker existed, it counted as
// ready until the next sync: its endpoint came and went).
func TestAgentReadinessStartsFalse(t *testing.T) {
	client := fake.NewSimpleClientset()
	var mu sync.Mutex
	var readyWrites int
	client.PrependReactor("update", "pods", func(action k8stesting.Action) (bool, k8sruntime.Object, error) {
		if p, ok := action.(k8stesting.UpdateAction).GetObject().(*corev1.Pod); ok {
			for _, cs := range p.Status.ContainerStatuses {
				if cs.Ready {
					mu.Lock()
					readyWrites++
					mu.Unlock()
				}
			}
		}
		return false, nil, nil
	})
	startAgentWith(t, client, func(c *Config) { c.ProbesEnabled = true })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().(*net.TCPAddr).Port
	l.Close() // nothing listens there: the probe is refused
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Host: "127.0.0.1", Port: intstr.FromInt(closed)}}, PeriodSeconds: 1}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "slow", Namespace: "default", UID: "u-slow"},
		Spec: corev1.PodSpec{NodeName: "n1", RestartPolicy: corev1.RestartPolicyAlways,
			Containers: []corev1.Container{{Name: "c", Image: "nginx", ReadinessProbe: probe}}}}
	if _, err := client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPod(t, client, "slow", func(p *corev1.Pod, err error) bool {
		return err == nil && p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1
	})
	time.Sleep(time.Second) // a few more syncs (Resync 200 ms)
	mu.Lock()
	defer mu.Unlock()
	if readyWrites > 0 {
		t.Errorf("%d status writes said the container was ready; its readiness probe never passed", readyWrites)
	}
}

// TestAgentActiveDeadline: a running pod whose activeDeadlineSeconds is
// set later (as upstream's conformance spec updates it) is stopped and
// reported Failed with reason DeadlineExceeded, and stays so.
func TestAgentActiveDeadline(t *testing.T) {
	client := fake.NewSimpleClientset()
	startAgentWith(t, client, func(*Config) {})
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "dl", Namespace: "default", UID: "u-dl"},
		Spec: corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{{Name: "c", Image: "nginx"}}}}
	if _, err := client.CoreV1().Pods("default").Create(context.Background(), pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	running := waitPod(t, client, "dl", func(p *corev1.Pod, err error) bool {
		return err == nil && p.Status.Phase == corev1.PodRunning && p.Status.StartTime != nil
	})
	running.Spec.ActiveDeadlineSeconds = ptr.To[int64](1)
	if _, err := client.CoreV1().Pods("default").Update(context.Background(), running, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got := waitPod(t, client, "dl", func(p *corev1.Pod, err error) bool {
		return err == nil && p.Status.Phase == corev1.PodFailed
	})
	if got.Status.Reason != "DeadlineExceeded" || got.Status.Message != "Pod was active on the node longer than the specified deadline" ||
		len(got.Status.ContainerStatuses) != 1 || got.Status.ContainerStatuses[0].State.Running != nil {
		t.Fatalf("status after the deadline: %+v", got.Status)
	}
	time.Sleep(500 * time.Millisecond)
	if p, _ := client.CoreV1().Pods("default").Get(context.Background(), "dl", metav1.GetOptions{}); p.Status.Phase != corev1.PodFailed {
		t.Fatalf("phase %s after the deadline", p.Status.Phase)
	}
}
