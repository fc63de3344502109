package workloads

import (
	"fmt"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestDisruptionBudget: the disruption controller counts a ReplicaSet's
// ready pods into its budget's status, and the eviction subresource
// refuses (429, DisruptionBudget cause) or allows by that status: as
// upstream's "should block an eviction until the PDB is updated to allow
// it", the budget raised then lowered.
func TestDisruptionBudget(t *testing.T) {
	e := start(t)
	ns := e.namespace("pdb")
	e.addNode("node-a", nil, true)
	labels := map[string]string{"foo": "bar"}
	three := intstr.FromInt32(3)
	pdbs := e.Client.PolicyV1().PodDisruptionBudgets(ns)
	_, err := pdbs.Create(e.ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "foo"},
		Spec: policyv1.PodDisruptionBudgetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}, MinAvailable: &three}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "rs"}, Spec: appsv1.ReplicaSetSpec{Replicas: ptr(int32(3)),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}}}
	if _, err := e.Client.AppsV1().ReplicaSets(ns).Create(e.ctx, rs, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pods := e.waitPods(ns, 3)
	e.waitBudget(ns, 3, 3, 0)
	evict := func(name string) error {
		return e.Client.CoreV1().Pods(ns).EvictV1(e.ctx, &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}})
	}
	err = evict(pods[0].Name)
	if se, ok := err.(*apierrors.StatusError); !ok || !apierrors.HasStatusCause(err, policyv1.DisruptionBudgetCause) ||
		se.ErrStatus.Details.Causes[0].Message != "The disruption budget foo needs 3 healthy pods and has 3 currently" {
		t.Fatalf("evict under minAvailable 3: %v", err)
	}
	two := intstr.FromInt32(2)
	patch := fmt.Sprintf(`{"spec":{"minAvailable":%d}}`, two.IntVal)
	if _, err := pdbs.Patch(e.ctx, "foo", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	e.waitBudget(ns, 3, 2, 1)
	if err := evict(pods[0].Name); err != nil {
		t.Fatalf("evict under minAvailable 2: %v", err)
	}
	e.eventually(10*time.Second, "evicted pod deleted, budget back to 3 healthy", func() (bool, string) {
		p, err := e.Client.CoreV1().Pods(ns).Get(e.ctx, pods[0].Name, metav1.GetOptions{})
		pdb, perr := pdbs.Get(e.ctx, "foo", metav1.GetOptions{})
		gone := apierrors.IsNotFound(err) || (err == nil && p.DeletionTimestamp != nil)
		return gone && perr == nil && pdb.Status.CurrentHealthy == 3 && len(pdb.Status.DisruptedPods) == 0,
			fmt.Sprintf("pod: %v, budget %+v", err, pdb.Status)
	})
	if err := pdbs.Delete(e.ctx, "foo", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := evict(e.waitPods(ns, 3)[1].Name); err != nil {
		t.Fatalf("evict with no budget: %v", err)
	}
}

// waitBudget waits for the budget foo's status to count healthy, desired
// and allowed at its current generation.
func (e *env) waitBudget(ns string, healthy, desired, allowed int32) {
	e.t.Helper()
	e.eventually(10*time.Second, fmt.Sprintf("budget %d/%d/%d", healthy, desired, allowed), func() (bool, string) {
		p, err := e.Client.PolicyV1().PodDisruptionBudgets(ns).Get(e.ctx, "foo", metav1.GetOptions{})
		if err != nil {
			return false, describe(err, "get")
		}
		s := p.Status
		return s.ObservedGeneration == p.Generation && s.CurrentHealthy == healthy && s.DesiredHealthy == desired &&
			s.DisruptionsAllowed == allowed && s.ExpectedPods == 3, fmt.Sprintf("generation %d, %+v", p.Generation, s)
	})
}
