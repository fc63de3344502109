package replicationcontroller

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

func validRC() *corev1.ReplicationController {
	rc := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	rc.Spec.Template = &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}}}
	rc.Spec.Template.Spec.Containers = []corev1.Container{{Name: "web", Image: "nginx"}}
	Default(rc)
	return rc
}

func TestDefault(t *testing.T) {
	rc := validRC()
	want := map[string]string{"app": "web"}
	if *rc.Spec.Replicas != 1 || !maps.Equal(rc.Spec.Selector, want) || !maps.Equal(rc.Labels, want) ||
		rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("defaults: %+v labels %v", rc.Spec, rc.Labels)
	}
	rc.Spec.Template.Labels["tier"] = "x"
	if rc.Spec.Selector["tier"] != "" || rc.Labels["tier"] != "" {
		t.Error("selector or labels share the template's map")
	}
	own := &corev1.ReplicationController{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"mine": "1"}},
		Spec: corev1.ReplicationControllerSpec{Selector: map[string]string{"app": "web"}, Template: rc.Spec.Template}}
	Default(own)
	if !maps.Equal(own.Labels, map[string]string{"mine": "1"}) || !maps.Equal(own.Spec.Selector, want) {
		t.Errorf("set values changed: labels %v selector %v", own.Labels, own.Spec.Selector)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*corev1.ReplicationController)
		want   []string
	}{
		{"valid", func(*corev1.ReplicationController) {}, nil},
		{"negative replicas", func(rc *corev1.ReplicationController) { rc.Spec.Replicas = new(int32(-1)) },
			[]string{"spec.replicas: Invalid value: -1: must be greater than or equal to 0"}},
		{"no selector", func(rc *corev1.ReplicationController) { rc.Spec.Selector = nil },
			[]string{"spec.selector: Required value"}},
		{"no template", func(rc *corev1.ReplicationController) { rc.Spec.Template = nil },
			[]string{"spec.template: Required value"}},
		{"selector not matching", func(rc *corev1.ReplicationController) { rc.Spec.Selector["app"] = "db" },
			[]string{"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`"}},
		{"bad selector key", func(rc *corev1.ReplicationController) { rc.Spec.Selector = map[string]string{"a b": "x"} }, []string{
			`spec.selector: Invalid value: "a b": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
			"spec.template.metadata.labels: Invalid value: {\"app\":\"web\"}: `selector` does not match template `labels`",
		}},
		{"restartPolicy Never", func(rc *corev1.ReplicationController) {
			rc.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever
		},
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`}},
		{"activeDeadlineSeconds", func(rc *corev1.ReplicationController) { rc.Spec.Template.Spec.ActiveDeadlineSeconds = new(int64(5)) },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := validRC()
			tc.mutate(rc)
			checkErrors(t, Validate(context.Background(), rc), tc.want)
		})
	}
}

func TestStatusUpdate(t *testing.T) {
	ctx := context.Background()
	old := validRC()
	rc := old.DeepCopy()
	rc.Spec.Replicas = new(int32(9))
	rc.Annotations = map[string]string{"a": "b"}
	rc.Status = corev1.ReplicationControllerStatus{Replicas: 1, ReadyReplicas: 2}
	PrepareForStatusUpdate(ctx, rc, old)
	if *rc.Spec.Replicas != 1 || rc.Annotations["a"] != "b" {
		t.Errorf("status update: spec replicas %d annotations %v", *rc.Spec.Replicas, rc.Annotations)
	}
	checkErrors(t, ValidateStatusUpdate(ctx, rc, old), []string{"status.readyReplicas: Invalid value: 2: cannot be greater than status.replicas"})
}

func TestPrepareForUpdate(t *testing.T) {
	old := validRC()
	old.Generation, old.Status.Replicas = 1, 1
	rc := old.DeepCopy()
	rc.Spec.Replicas = new(int32(3))
	rc.Status.Replicas = 7
	PrepareForUpdate(context.Background(), rc, old)
	if rc.Generation != 2 || rc.Status.Replicas != 1 {
		t.Errorf("generation %d status replicas %d", rc.Generation, rc.Status.Replicas)
	}
}
