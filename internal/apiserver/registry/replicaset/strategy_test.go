package replicaset

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
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

func validReplicaSet() *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d8f", Namespace: "default"}}
	rs.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	rs.Spec.Template.Labels = map[string]string{"app": "web", "pod-template-hash": "5d8f"}
	rs.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "nginx"}}
	Default(rs)
	return rs
}

func TestDefault(t *testing.T) {
	rs := validReplicaSet()
	spec := rs.Spec.Template.Spec
	if *rs.Spec.Replicas != 1 || spec.RestartPolicy != corev1.RestartPolicyAlways ||
		spec.Containers[0].ImagePullPolicy != corev1.PullAlways || spec.EnableServiceLinks != nil {
		t.Errorf("defaults: replicas %d, template spec %+v", *rs.Spec.Replicas, spec)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*appsv1.ReplicaSet)
		want   []string
	}{
		{"valid", func(*appsv1.ReplicaSet) {}, nil},
		{"negative replicas", func(rs *appsv1.ReplicaSet) { rs.Spec.Replicas = new(int32(-1)) },
			[]string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{"no selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = nil }, []string{
			"spec.selector: Required value",
			"spec.template.metadata.labels: Invalid value: {\"app\":\"web\",\"pod-template-hash\":\"5d8f\"}: `selector` does not match template `labels`",
		}},
		{"empty selector", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"}},
		{"selector not matching", func(rs *appsv1.ReplicaSet) { rs.Spec.Selector.MatchLabels["app"] = "db" },
			[]string{"spec.template.metadata.labels: Invalid value: {\"app\":\"web\",\"pod-template-hash\":\"5d8f\"}: `selector` does not match template `labels`"}},
		{"restartPolicy Never", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`}},
		{"activeDeadlineSeconds", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.ActiveDeadlineSeconds = new(int64(10)) },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicaSet is not Supported"}},
		{"template container invalid", func(rs *appsv1.ReplicaSet) { rs.Spec.Template.Spec.Containers[0].Image = "" },
			[]string{"spec.template.spec.containers[0].image: Required value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := validReplicaSet()
			tc.mutate(rs)
			checkErrors(t, Validate(context.Background(), rs), tc.want)
		})
	}
}

func TestValidateStatusUpdate(t *testing.T) {
	rs := validReplicaSet()
	rs.Status = appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 3, AvailableReplicas: 1}
	checkErrors(t, ValidateStatusUpdate(context.Background(), rs, rs), []string{
		"status.readyReplicas: Invalid value: 3: cannot be greater than status.replicas",
	})
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	rs := validReplicaSet()
	rs.Status.Replicas = 5
	PrepareForCreate(ctx, rs)
	if rs.Generation != 1 || rs.Status.Replicas != 0 {
		t.Fatalf("create: generation %d status %+v", rs.Generation, rs.Status)
	}
	rs.Status.Replicas = 1
	scaled := rs.DeepCopy()
	scaled.Spec.Replicas = new(int32(3))
	scaled.Status.Replicas = 9
	PrepareForUpdate(ctx, scaled, rs)
	if scaled.Generation != 2 || scaled.Status.Replicas != 1 {
		t.Errorf("update: generation %d status replicas %d, want 2 and 1", scaled.Generation, scaled.Status.Replicas)
	}
	status := scaled.DeepCopy()
	status.Spec.Replicas = new(int32(7))
	status.Status.Replicas = 3
	PrepareForStatusUpdate(ctx, status, scaled)
	if *status.Spec.Replicas != 3 || status.Status.Replicas != 3 {
		t.Errorf("status update: spec replicas %d status replicas %d", *status.Spec.Replicas, status.Status.Replicas)
	}
}

func TestFieldSetAndWarnings(t *testing.T) {
	rs := validReplicaSet()
	rs.Status.Replicas = 2
	want := fields.Set{"metadata.name": "web-5d8f", "metadata.namespace": "default", "status.replicas": "2"}
	if got := FieldSet(rs); !maps.Equal(got, want) {
		t.Errorf("FieldSet %v, want %v", got, want)
	}
	rs.Name = "Web"
	if got := Warnings(context.Background(), rs, nil); len(got) != 1 || !strings.HasPrefix(got[0], "metadata.name: this is used in Pod names and hostnames") {
		t.Errorf("warnings %q", got)
	}
}
