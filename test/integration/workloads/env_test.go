// Package workloads runs the API server with every controller in-process
// and checks Deployments, ReplicaSets, scheduling, garbage collection,
// namespace deletion, node lifecycle and IPAM, and LoadBalancer addresses
// with client-go and kubectl. There is no node agent: the tests play the
// kubelet (kwok.go), renewing Leases and writing pod status directly.
package workloads

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/testcluster"
)

// env is an API server with the controllers running against it.
type env struct {
	*testcluster.Cluster
	t    *testing.T
	ctx  context.Context
	kwok *kwok
}

// settings are the controller settings of the tests: fast node
// monitoring and a small LoadBalancer range.
func settings() app.ControllerSettings {
	return app.ControllerSettings{
		LoadBalancerIPRange:    "192.0.2.10-192.0.2.12",
		NodeMonitorGracePeriod: 2 * time.Second,
		NodeMonitorPeriod:      200 * time.Millisecond,
		Workers:                3,
	}
}

// start runs a cluster, its controllers and a fake kubelet until the test
// ends. SVCPLANE_TEST_LOG=1 shows the controllers' logs.
func start(t *testing.T) *env {
	t.Helper()
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("SVCPLANE_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := app.RunControllers(ctx, app.ControllersConfig{RESTConfig: c.RESTConfig, Settings: settings(), Logger: logger})
		if err != nil {
			t.Errorf("controllers: %v", err)
		}
	}()
	e := &env{Cluster: c, t: t, ctx: ctx}
	e.kwok = startKwok(ctx, t, c.Client)
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// with is e reporting to a subtest's t.
func (e *env) with(t *testing.T) *env {
	c := *e
	c.t = t
	return &c
}

// eventually polls cond until it holds or timeout passes; cond returns a
// description of what it saw, for the failure message.
func (e *env) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	deadline := time.Now().Add(timeout)
	var seen string
	for {
		var ok bool
		if ok, seen = cond(); ok {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out after %v waiting for %s; last seen: %s", timeout, what, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// namespace creates a namespace for one test.
func (e *env) namespace(name string) string {
	e.t.Helper()
	_, err := e.Client.CoreV1().Namespaces().Create(e.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	return name
}

// addNode registers a node with a Ready condition and a Lease, as an
// agent would; heartbeat keeps the Lease fresh until the returned stop is
// called or the test ends. kubelet says whether the fake kubelet runs the
// node's pods (marks them running and ready).
func (e *env) addNode(name string, labels map[string]string, kubelet bool) (stop func()) {
	e.t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
	if _, err := e.Client.CoreV1().Nodes().Create(e.ctx, node, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := e.Client.CoreV1().Nodes().Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status = readyStatus()
		_, err = e.Client.CoreV1().Nodes().UpdateStatus(e.ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if kubelet {
		e.kwok.run(name)
	}
	return e.heartbeat(name)
}

// readyStatus is the status of a Ready node with room for 110 pods.
func readyStatus() corev1.NodeStatus {
	now := metav1.Now()
	s := corev1.NodeStatus{
		Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady",
			Message: "kubelet is posting ready status", LastHeartbeatTime: now, LastTransitionTime: now}},
		Allocatable: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("110"),
			corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi")},
	}
	s.Capacity = s.Allocatable
	return s
}

// heartbeat creates the node's Lease and renews it every 200ms.
func (e *env) heartbeat(name string) func() {
	e.t.Helper()
	leases := e.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease)
	renew := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: ptr(int32(40)), RenewTime: &renew}}
	if _, err := leases.Create(e.ctx, lease, metav1.CreateOptions{}); err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	go func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			l, err := leases.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				continue
			}
			now := metav1.NewMicroTime(time.Now())
			l.Spec.RenewTime = &now
			_, _ = leases.Update(ctx, l, metav1.UpdateOptions{})
		}
	}()
	return cancel
}

func ptr[T any](v T) *T { return &v }

// kubectl runs kubectl and fails the test on error.
func (e *env) kubectl(args ...string) string {
	e.t.Helper()
	return e.Kubectl(args...)
}

func describe(err error, what string) string { return fmt.Sprintf("%s: %v", what, err) }
