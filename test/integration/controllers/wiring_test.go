package controllers

import (
	"context"
	"io"
	"log/slog"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/testcluster"
)

// TestRunControllersRunsThem checks the wiring `svcplane controllers` and
// `svcplane up` use, with --max-endpoints-per-slice 2.
func TestRunControllersRunsThem(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- app.RunControllers(ctx, app.ControllersConfig{
			RESTConfig: c.RESTConfig, Settings: app.ControllerSettings{MaxEndpointsPerSlice: 2},
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("RunControllers: %v", err)
		}
	})
	e := &env{Cluster: c, t: t, ctx: ctx, ns: "default"}
	e.node("n1", "z1")
	e.nodeAlive("n1") // the node lifecycle controller runs here too
	e.service("web", intstr.FromInt32(8080))
	for i, ip := range []string{"10.244.0.11", "10.244.0.12", "10.244.0.13"} {
		e.pod("web", "web-"+string(rune('a'+i)), ip, true)
	}
	e.eventually("Endpoints and two slices", func() string {
		return expect(e.endpointsText("web"), "ready: 10.244.0.11:8080 10.244.0.12:8080 10.244.0.13:8080; notready: ") +
			expect(sliceSizes(e.slices("web")), "2 1")
	})
}

// nodeAlive marks a node Ready and renews its Lease, as an agent would.
func (e *env) nodeAlive(name string) {
	e.t.Helper()
	now := metav1.Now()
	// The node IPAM controller writes the node meanwhile: retry on a
	// conflict, as an agent does.
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		n, err := e.Client.CoreV1().Nodes().Get(e.ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue,
			LastHeartbeatTime: now, LastTransitionTime: now, Reason: "KubeletReady"}}
		_, err = e.Client.CoreV1().Nodes().UpdateStatus(e.ctx, n, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: corev1.NamespaceNodeLease},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &name, LeaseDurationSeconds: ptr.To[int32](40),
			RenewTime: &metav1.MicroTime{Time: now.Time}},
	}
	e.must(e.Client.CoordinationV1().Leases(corev1.NamespaceNodeLease).Create(e.ctx, lease, metav1.CreateOptions{}))
}
