package namespace

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func TestDefaultAndCreate(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}}
	ns.Status.Phase = corev1.NamespaceTerminating
	Default(ns)
	PrepareForCreate(context.Background(), ns)
	if ns.Labels[corev1.LabelMetadataName] != "team-a" || ns.Status.Phase != corev1.NamespaceActive ||
		!slices.Equal(ns.Spec.Finalizers, []corev1.FinalizerName{"kubernetes"}) {
		t.Errorf("namespace after create: %+v", ns)
	}

	other := &corev1.Namespace{Spec: corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"example.com/cleanup"}}}
	PrepareForCreate(context.Background(), other)
	if !slices.Equal(other.Spec.Finalizers, []corev1.FinalizerName{"example.com/cleanup", "kubernetes"}) {
		t.Errorf("finalizers %v", other.Spec.Finalizers)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name       string
		nsName     string
		finalizers []corev1.FinalizerName
		want       []string
	}{
		{"valid", "team-a", []corev1.FinalizerName{"kubernetes", "example.com/x"}, nil},
		{"name with dots", "team.a", nil, []string{`metadata.name: Invalid value: "team.a": must not contain dots`}},
		{"unqualified finalizer", "team-a", []corev1.FinalizerName{"cleanup"},
			[]string{`spec.finalizers: Invalid value: "cleanup": name is neither a standard finalizer name nor is it fully qualified`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: tc.nsName}, Spec: corev1.NamespaceSpec{Finalizers: tc.finalizers}}
			checkErrors(t, Validate(context.Background(), ns), tc.want)
		})
	}
}

func TestUpdates(t *testing.T) {
	ctx := context.Background()
	old := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"},
		Spec:   corev1.NamespaceSpec{Finalizers: []corev1.FinalizerName{"kubernetes"}},
		Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}}
	ns := old.DeepCopy()
	ns.Spec.Finalizers = nil
	ns.Status.Phase = corev1.NamespaceTerminating
	PrepareForUpdate(ctx, ns, old)
	if len(ns.Spec.Finalizers) != 1 || ns.Status.Phase != corev1.NamespaceActive {
		t.Errorf("update changed finalizers or status: %+v", ns)
	}

	st := old.DeepCopy()
	st.Spec.Finalizers = nil
	st.Status.Phase = corev1.NamespaceTerminating
	PrepareForStatusUpdate(ctx, st, old)
	if len(st.Spec.Finalizers) != 1 {
		t.Errorf("status update changed spec: %+v", st.Spec)
	}
	checkErrors(t, ValidateStatusUpdate(ctx, st, old),
		[]string{"status.Phase: Invalid value: \"Terminating\": may only be 'Active' if `deletionTimestamp` is empty"})
	now := metav1.Now()
	st.DeletionTimestamp = &now
	checkErrors(t, ValidateStatusUpdate(ctx, st, old), nil)
}

func TestFieldSet(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "a"}, Status: corev1.NamespaceStatus{Phase: "Active"}}
	want := fields.Set{"metadata.name": "a", "status.phase": "Active"}
	if got := Strategy().FieldSet(ns); !maps.Equal(got, want) {
		t.Errorf("FieldSet %v, want %v", got, want)
	}
}
