package apiserver_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/poddisruptionbudget"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

// startWithBudgets also serves pods (status, eviction) and
// PodDisruptionBudgets with their own strategy.
func startWithBudgets(t *testing.T) kubernetes.Interface {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store := memory.New(memory.Config{})
	res := append(testResources(),
		&registry.Resource{GroupVersion: corev1.SchemeGroupVersion, Name: "pods", Singular: "pod", Kind: "Pod", ListKind: "PodList",
			Namespaced: true, Subresources: []string{"eviction", "status"},
			New: func() runtime.Object { return &corev1.Pod{} }, NewList: func() runtime.Object { return &corev1.PodList{} },
			Strategy: registry.Typed[*corev1.Pod]{PrepareForStatusUpdateFunc: func(_ context.Context, p, old *corev1.Pod) { p.Spec = old.Spec }}},
		&registry.Resource{GroupVersion: policyv1.SchemeGroupVersion, Name: "poddisruptionbudgets", Singular: "poddisruptionbudget",
			Kind: "PodDisruptionBudget", ListKind: "PodDisruptionBudgetList", Namespaced: true, Subresources: []string{"status"},
			New:     func() runtime.Object { return &policyv1.PodDisruptionBudget{} },
			NewList: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} }, Strategy: poddisruptionbudget.Strategy()})
	srv, err := apiserver.New(apiserver.Config{Storage: store, Resources: res, Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); cancel() })
	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL, ContentConfig: rest.ContentConfig{ContentType: "application/vnd.kubernetes.protobuf"}})
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return client
}

func runningPod(t *testing.T, c kubernetes.Interface, name string, ready bool) {
	t.Helper()
	ctx := context.Background()
	p, err := c.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"foo": "bar"}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "pause"}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}
	if _, err := c.CoreV1().Pods("default").UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func evict(c kubernetes.Interface, name string) error {
	return c.CoreV1().Pods("default").EvictV1(context.Background(), &policyv1.Eviction{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}})
}

// budgetCause returns the DisruptionBudget cause's message of a 429.
func budgetCause(err error) string {
	se, ok := err.(*apierrors.StatusError)
	if !ok || !apierrors.IsTooManyRequests(err) || se.ErrStatus.Message != "Cannot evict pod as it would violate the pod's disruption budget." {
		return ""
	}
	for _, c := range se.ErrStatus.Details.Causes {
		if c.Type == policyv1.DisruptionBudgetCause {
			return c.Message
		}
	}
	return ""
}

func setBudgetStatus(t *testing.T, c kubernetes.Interface, allowed, healthy, desired int32) {
	t.Helper()
	ctx := context.Background()
	pdb, err := c.PolicyV1().PodDisruptionBudgets("default").Get(ctx, "foo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pdb.Status = policyv1.PodDisruptionBudgetStatus{ObservedGeneration: pdb.Generation, DisruptionsAllowed: allowed,
		CurrentHealthy: healthy, DesiredHealthy: desired, ExpectedPods: healthy}
	if _, err := c.PolicyV1().PodDisruptionBudgets("default").UpdateStatus(ctx, pdb, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestEviction(t *testing.T) {
	c := startWithBudgets(t)
	ctx := context.Background()
	pods, budgets := c.CoreV1().Pods("default"), c.PolicyV1().PodDisruptionBudgets("default")
	for _, n := range []string{"p0", "p1", "p2"} {
		runningPod(t, c, n, true)
	}
	if err := evict(c, "p0"); err != nil {
		t.Fatalf("evict without a budget: %v", err)
	}
	if p, err := pods.Get(ctx, "p0", metav1.GetOptions{}); err == nil && p.DeletionTimestamp == nil {
		t.Fatal("p0 is not deleted")
	}
	if err := evict(c, "nope"); !apierrors.IsNotFound(err) {
		t.Fatalf("evict a missing pod: %v", err)
	}

	two := intstr.FromInt32(2)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "foo"}, Spec: policyv1.PodDisruptionBudgetSpec{
		MinAvailable: &two, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"foo": "bar"}}}}
	if _, err := budgets.Create(ctx, pdb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// A budget whose status is not yet computed (observedGeneration 0).
	if msg := budgetCause(evict(c, "p1")); msg != "The disruption budget foo is still being processed by the server." {
		t.Fatalf("evict under an unprocessed budget: cause %q", msg)
	}
	setBudgetStatus(t, c, 0, 2, 2)
	if msg := budgetCause(evict(c, "p1")); msg != "The disruption budget foo needs 2 healthy pods and has 2 currently" {
		t.Fatalf("evict with no disruption allowed: cause %q", msg)
	}
	setBudgetStatus(t, c, 1, 2, 1)
	if err := evict(c, "p1"); err != nil {
		t.Fatalf("evict with a disruption allowed: %v", err)
	}
	got, err := budgets.Get(ctx, "foo", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status.DisruptionsAllowed != 0 || got.Status.DisruptedPods["p1"].Time.IsZero() || len(got.Status.Conditions) != 1 ||
		got.Status.Conditions[0].Reason != policyv1.InsufficientPodsReason {
		t.Fatalf("budget after the eviction: %+v", got.Status)
	}

	// An unready pod goes when the budget is healthy enough, costing it nothing.
	runningPod(t, c, "p3", false)
	setBudgetStatus(t, c, 0, 2, 2)
	if err := evict(c, "p3"); err != nil {
		t.Fatalf("evict an unready pod under a healthy budget: %v", err)
	}

	// Two budgets: upstream's 500.
	pdb2 := pdb.DeepCopy()
	pdb2.Name = "foo2"
	if _, err := budgets.Create(ctx, pdb2, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err = evict(c, "p2")
	if se, ok := err.(*apierrors.StatusError); !ok || se.ErrStatus.Code != 500 || !strings.Contains(se.ErrStatus.Message, "more than one PodDisruptionBudget") {
		t.Fatalf("evict under two budgets: %v", err)
	}
	if err := c.CoreV1().RESTClient().Post().AbsPath("/api/v1/namespaces/default/pods/p2/eviction").
		Body([]byte(`{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"other"}}`)).Do(ctx).Error(); !apierrors.IsBadRequest(err) {
		t.Fatalf("a name that differs from the URL's: %v", err)
	}
}
