package agent

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// TestRegisterSurvivesConcurrentNodeWrites: another writer (node IPAM)
// updates the Node between the agent's create and its status write; the
// agent reads it again and carries on instead of stopping.
func TestRegisterSurvivesConcurrentNodeWrites(t *testing.T) {
	client := fake.NewSimpleClientset()
	conflicts := 2
	client.PrependReactor("update", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "status" || conflicts == 0 {
			return false, nil, nil
		}
		conflicts--
		return true, nil, apierrors.NewConflict(schema.GroupResource{Resource: "nodes"}, "n1", errConflictForTest)
	})
	a := New(Config{Client: client, NodeName: "n1", NodeIP: netip.MustParseAddr("10.240.0.2"), Port: 10250,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	node, err := a.registerNode(context.Background())
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if conflicts != 0 || len(node.Status.Conditions) == 0 || node.Status.Conditions[3].Type != corev1.NodeReady {
		t.Fatalf("conflicts left %d, status %+v", conflicts, node.Status)
	}
}

var errConflictForTest = errors.New("written meanwhile")
