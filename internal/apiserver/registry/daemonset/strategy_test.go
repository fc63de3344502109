package daemonset

import (
	"context"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func validDaemonSet() *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "default"}}
	ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "proxy"}}
	ds.Spec.Template.Labels = map[string]string{"app": "proxy"}
	ds.Spec.Template.Spec.Containers = []corev1.Container{{Name: "c", Image: "img"}}
	Default(ds)
	return ds
}

func errorTexts(t *testing.T, ds *appsv1.DaemonSet) []string {
	t.Helper()
	var out []string
	for _, e := range Validate(context.Background(), ds) {
		out = append(out, e.Error())
	}
	return out
}

func TestDefaultAndGenerations(t *testing.T) {
	ds := validDaemonSet()
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru.MaxUnavailable.IntValue() != 1 ||
		ru.MaxSurge.IntValue() != 0 || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("defaults: %+v", ds.Spec)
	}
	PrepareForCreate(context.Background(), ds)
	if ds.Generation != 1 || TemplateGeneration(ds) != 1 {
		t.Errorf("create: generation %d, template generation %d", ds.Generation, TemplateGeneration(ds))
	}
	upd := ds.DeepCopy()
	upd.Spec.Template.Spec.Containers[0].Image = "img:2"
	PrepareForUpdate(context.Background(), upd, ds)
	if upd.Generation != 2 || TemplateGeneration(upd) != 2 {
		t.Errorf("template change: generation %d, template generation %d", upd.Generation, TemplateGeneration(upd))
	}
	upd2 := upd.DeepCopy()
	upd2.Spec.MinReadySeconds = 5
	PrepareForUpdate(context.Background(), upd2, upd)
	if upd2.Generation != 3 || TemplateGeneration(upd2) != 2 {
		t.Errorf("other change: generation %d, template generation %d", upd2.Generation, TemplateGeneration(upd2))
	}
}

func TestValidate(t *testing.T) {
	two, zero, pct := intstr.FromInt32(2), intstr.FromInt32(0), intstr.FromString("150%")
	cases := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		want   []string
	}{
		{"valid", func(*appsv1.DaemonSet) {}, nil},
		{"selector does not match", func(d *appsv1.DaemonSet) { d.Spec.Template.Labels = map[string]string{"app": "x"} },
			[]string{"spec.template.metadata.labels: Invalid value: {\"app\":\"x\"}: `selector` does not match template `labels`"}},
		{"restartPolicy", func(d *appsv1.DaemonSet) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]string{`spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"`}},
		{"surge and unavailable", func(d *appsv1.DaemonSet) { d.Spec.UpdateStrategy.RollingUpdate.MaxSurge = &two },
			[]string{"spec.updateStrategy.rollingUpdate.maxSurge: Invalid value: 2: may not be set when maxUnavailable is non-zero"}},
		{"both zero", func(d *appsv1.DaemonSet) { d.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &zero },
			[]string{"spec.updateStrategy.rollingUpdate.maxUnavailable: Required value: cannot be 0 when maxSurge is 0"}},
		{"over 100%", func(d *appsv1.DaemonSet) { d.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = &pct },
			[]string{`spec.updateStrategy.rollingUpdate.maxUnavailable: Invalid value: "150%": must not be greater than 100%`}},
		{"activeDeadlineSeconds", func(d *appsv1.DaemonSet) { n := int64(5); d.Spec.Template.Spec.ActiveDeadlineSeconds = &n },
			[]string{"spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in DaemonSet is not Supported"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ds := validDaemonSet()
			tc.mutate(ds)
			if got := errorTexts(t, ds); !slices.Equal(got, tc.want) {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestValidateUpdateSelectorImmutable(t *testing.T) {
	old := validDaemonSet()
	ds := old.DeepCopy()
	ds.Spec.Selector.MatchLabels["tier"] = "x"
	ds.Spec.Template.Labels["tier"] = "x"
	errs := ValidateUpdate(context.Background(), ds, old)
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "spec.selector: Invalid value:") || !strings.HasSuffix(errs[0].Error(), "field is immutable") {
		t.Errorf("errors: %v", errs)
	}
}
