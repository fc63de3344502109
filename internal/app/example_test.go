package app

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func readyNode(name string, ready corev1.ConditionStatus) *corev1.Node {
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Status:     corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}}},
	}
}

func TestWaitNodesReady(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset(readyNode("n1", corev1.ConditionTrue), readyNode("n2", corev1.ConditionFalse))
	err := waitNodesReady(ctx, client, 2, 300*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 nodes Ready") {
		t.Fatalf("one of two Ready: %v", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, _ = client.CoreV1().Nodes().UpdateStatus(ctx, readyNode("n2", corev1.ConditionTrue), metav1.UpdateOptions{})
	}()
	if err := waitNodesReady(ctx, client, 2, 5*time.Second); err != nil {
		t.Fatalf("both Ready: %v", err)
	}
}
