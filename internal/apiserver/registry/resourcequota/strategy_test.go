package resourcequota

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func quota(hard map[string]string, scopes ...corev1.ResourceQuotaScope) *corev1.ResourceQuota {
	q := &corev1.ResourceQuota{Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{}, Scopes: scopes}}
	for k, v := range hard {
		q.Spec.Hard[corev1.ResourceName(k)] = resource.MustParse(v)
	}
	return q
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		q    *corev1.ResourceQuota
		want string // "" for valid; else a substring of the joined errors
	}{
		{"counts and compute", quota(map[string]string{"pods": "2", "requests.cpu": "500m", "count/deployments.apps": "1", "example.com/gpu": "1"}), ""},
		{"negative", quota(map[string]string{"pods": "-1"}), `spec.hard[pods]: Invalid value: "-1": must be greater than or equal to 0`},
		{"fraction of a count", quota(map[string]string{"services": "1500m"}), "spec.hard[services]: Invalid value: \"1500m\": must be an integer"},
		{"unknown name", quota(map[string]string{"bananas": "1"}), "spec.hard[bananas]: Invalid value: \"bananas\": must be a standard resource for quota"},
		{"storage is no quota name", quota(map[string]string{"storage": "1Gi"}), "must be a standard resource for quota"},
		{"scope on pods", quota(map[string]string{"pods": "1"}, corev1.ResourceQuotaScopeBestEffort), ""},
		{"scope on services", quota(map[string]string{"services": "1"}, corev1.ResourceQuotaScopeTerminating), "spec.scopes: Invalid value: [\"Terminating\"]: unsupported scope applied to resource"},
		{"conflicting", quota(map[string]string{"pods": "1"}, corev1.ResourceQuotaScopeTerminating, corev1.ResourceQuotaScopeNotTerminating), "conflicting scopes"},
		{"unknown scope", quota(map[string]string{"pods": "1"}, "Sometimes"), "unsupported scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := Validate(context.Background(), tt.q)
			got := errs.ToAggregate()
			switch {
			case tt.want == "" && got != nil:
				t.Fatalf("unexpected errors: %v", got)
			case tt.want != "" && (got == nil || !strings.Contains(got.Error(), tt.want)):
				t.Fatalf("errors %v, want %q", got, tt.want)
			}
		})
	}
}

func TestSelectorOperators(t *testing.T) {
	q := quota(map[string]string{"pods": "1"})
	q.Spec.ScopeSelector = &corev1.ScopeSelector{MatchExpressions: []corev1.ScopedResourceSelectorRequirement{
		{ScopeName: corev1.ResourceQuotaScopePriorityClass, Operator: corev1.ScopeSelectorOpIn},
		{ScopeName: corev1.ResourceQuotaScopeBestEffort, Operator: corev1.ScopeSelectorOpIn, Values: []string{"x"}},
	}}
	got := Validate(context.Background(), q).ToAggregate().Error()
	for _, want := range []string{
		"spec.scopeSelector.matchExpressions.values: Required value: must be at least one value",
		"spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be 'Exists' when scope is any of",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors %s\nwant %q", got, want)
		}
	}
}

func TestScopesImmutable(t *testing.T) {
	old := quota(map[string]string{"pods": "1"}, corev1.ResourceQuotaScopeBestEffort)
	q := quota(map[string]string{"pods": "1"})
	if errs := ValidateUpdate(context.Background(), q, old); len(errs) != 1 || errs[0].Field != "spec.scopes" {
		t.Fatalf("errors %v, want spec.scopes immutable", errs)
	}
}
