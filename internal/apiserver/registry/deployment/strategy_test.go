package deployment

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
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

func validDeployment() *appsv1.Deployment {
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "default"}}
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	d.Spec.Template.Labels = map[string]string{"app": "web"}
	d.Spec.Template.Spec.Containers = []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}}
	Default(d)
	return d
}

func TestDefault(t *testing.T) {
	d := validDeployment()
	quarter := intstr.FromString("25%")
	want := appsv1.DeploymentStrategy{
		Type:          appsv1.RollingUpdateDeploymentStrategyType,
		RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: &quarter, MaxSurge: &quarter},
	}
	s := d.Spec
	if *s.Replicas != 1 || *s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 ||
		!equality.Semantic.DeepEqual(s.Strategy, want) {
		t.Errorf("defaults: %+v", s)
	}
	tpl := s.Template.Spec
	if tpl.RestartPolicy != "Always" || tpl.DNSPolicy != "ClusterFirst" || *tpl.TerminationGracePeriodSeconds != 30 ||
		tpl.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("template defaults: %+v", tpl)
	}

	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Errorf("Recreate got a rollingUpdate: %+v", recreate.Spec.Strategy.RollingUpdate)
	}
}

func TestValidate(t *testing.T) {
	zero, pct := intstr.FromInt32(0), intstr.FromString("120%")
	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		want   []string
	}{
		{"valid", func(*appsv1.Deployment) {}, nil},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = new(int32(-2)) },
			[]string{"spec.replicas: Invalid value: -2: must be greater than or equal to 0"}},
		{"selector not matching", func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} },
			[]string{"spec.template.metadata.labels: Invalid value: {\"app\":\"db\"}: `selector` does not match template `labels`"}},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} },
			[]string{"spec.selector: Invalid value: {}: empty selector is invalid for deployment"}},
		{"bad selector operator", func(d *appsv1.Deployment) {
			d.Spec.Selector = &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Near"}}}
		}, []string{
			`spec.selector.matchExpressions[0].operator: Invalid value: "Near": not a valid selector operator`,
			`spec.selector: Invalid value: {"matchExpressions":[{"key":"app","operator":"Near"}]}: invalid label selector`,
		}},
		{"Recreate with rollingUpdate", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = appsv1.RecreateDeploymentStrategyType },
			[]string{"spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"}},
		{"unknown strategy", func(d *appsv1.Deployment) { d.Spec.Strategy = appsv1.DeploymentStrategy{Type: "BlueGreen"} },
			[]string{`spec.strategy: Unsupported value: {"type":"BlueGreen"}: supported values: "Recreate", "RollingUpdate"`}},
		{"surge and unavailable zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxUnavailable: &zero, MaxSurge: &zero}
		}, []string{"spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0"}},
		{"unavailable above 100%", func(d *appsv1.Deployment) { d.Spec.Strategy.RollingUpdate.MaxUnavailable = &pct },
			[]string{`spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "120%": must not be greater than 100%`}},
		{"bad percentage", func(d *appsv1.Deployment) { d.Spec.Strategy.RollingUpdate.MaxSurge = new(intstr.FromString("ten")) },
			[]string{`spec.strategy.rollingUpdate.maxSurge: Invalid value: "ten": a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')`}},
		{"progress deadline not above minReadySeconds", func(d *appsv1.Deployment) { d.Spec.MinReadySeconds = 600 },
			[]string{"spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"}},
		{"activeDeadlineSeconds in template", func(d *appsv1.Deployment) { d.Spec.Template.Spec.ActiveDeadlineSeconds = new(int64(5)) },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in Deployment is not Supported"}},
		{"template port invalid", func(d *appsv1.Deployment) {
			d.Spec.Template.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 0, Protocol: "TCP"}}
		}, []string{"spec.template.spec.containers[0].ports[0].containerPort: Required value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := validDeployment()
			tc.mutate(d)
			checkErrors(t, Validate(context.Background(), d), tc.want)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := validDeployment()
	d := old.DeepCopy()
	d.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "front"}}
	d.Spec.Template.Labels["tier"] = "front"
	checkErrors(t, ValidateUpdate(context.Background(), d, old), []string{
		`spec.selector: Invalid value: {"matchLabels":{"app":"web","tier":"front"}}: field is immutable`,
	})
	scaled := old.DeepCopy()
	scaled.Spec.Replicas = new(int32(5))
	checkErrors(t, ValidateUpdate(context.Background(), scaled, old), nil)
}

func TestValidateStatusUpdate(t *testing.T) {
	old := validDeployment()
	old.Status.CollisionCount = new(int32(2))
	d := old.DeepCopy()
	d.Status = appsv1.DeploymentStatus{Replicas: 1, ReadyReplicas: 1, AvailableReplicas: 2, CollisionCount: new(int32(1))}
	checkErrors(t, ValidateStatusUpdate(context.Background(), d, old), []string{
		"status.availableReplicas: Invalid value: 2: cannot be greater than status.replicas",
		"status.availableReplicas: Invalid value: 2: cannot be greater than readyReplicas",
		"status.collisionCount: Invalid value: 1: cannot be decremented",
	})
}

func TestPrepare(t *testing.T) {
	ctx := context.Background()
	d := validDeployment()
	d.Status.Replicas = 3
	PrepareForCreate(ctx, d)
	if d.Generation != 1 || d.Status.Replicas != 0 {
		t.Fatalf("create: generation %d status %+v", d.Generation, d.Status)
	}
	d.Status.Replicas = 1

	tests := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		gen    int64
	}{
		{"status ignored", func(n *appsv1.Deployment) { n.Status.Replicas = 7 }, 1},
		{"label change", func(n *appsv1.Deployment) { n.Labels = map[string]string{"a": "b"} }, 1},
		{"annotation change", func(n *appsv1.Deployment) { n.Annotations = map[string]string{"a": "b"} }, 2},
		{"spec change", func(n *appsv1.Deployment) { n.Spec.Replicas = new(int32(4)) }, 2},
	}
	for _, tc := range tests {
		n := d.DeepCopy()
		tc.mutate(n)
		PrepareForUpdate(ctx, n, d)
		if n.Generation != tc.gen || n.Status.Replicas != 1 {
			t.Errorf("%s: generation %d status replicas %d, want %d and 1", tc.name, n.Generation, n.Status.Replicas, tc.gen)
		}
	}

	s := d.DeepCopy()
	s.Spec.Replicas = new(int32(9))
	s.Labels = map[string]string{"x": "y"}
	s.Status.ReadyReplicas = 1
	PrepareForStatusUpdate(ctx, s, d)
	if *s.Spec.Replicas != 1 || s.Labels != nil || s.Status.ReadyReplicas != 1 {
		t.Errorf("status update: spec replicas %d labels %v status %+v", *s.Spec.Replicas, s.Labels, s.Status)
	}
}

func TestStrategy(t *testing.T) {
	s := Strategy()
	d := validDeployment()
	if errs := s.Validate(context.Background(), d); len(errs) != 0 {
		t.Errorf("valid deployment: %v", errs)
	}
	if got := s.FieldSet(d); len(got) != 2 || got["metadata.name"] != "web" {
		t.Errorf("FieldSet %v", got)
	}
}
