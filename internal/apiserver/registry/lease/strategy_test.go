package lease

import (
	"context"
	"slices"
	"strings"
	"testing"

	coordinationv1 "k8s.io/api/coordination/v1"
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

func TestValidate(t *testing.T) {
	holder := "node-a"
	tests := []struct {
		name string
		spec coordinationv1.LeaseSpec
		want []string
	}{
		{"empty", coordinationv1.LeaseSpec{}, nil},
		{"heartbeat", coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: new(int32(40))}, nil},
		{"zero duration", coordinationv1.LeaseSpec{LeaseDurationSeconds: new(int32(0))},
			[]string{"spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"}},
		{"negative transitions", coordinationv1.LeaseSpec{LeaseTransitions: new(int32(-1))},
			[]string{"spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0"}},
		{"unknown strategy", coordinationv1.LeaseSpec{Strategy: new(coordinationv1.CoordinatedLeaseStrategy("Newest"))},
			[]string{`spec.strategy.strategy: Unsupported value: "Newest": supported values: "OldestEmulationVersion"`}},
		{"custom strategy", coordinationv1.LeaseSpec{Strategy: new(coordinationv1.CoordinatedLeaseStrategy("example.com/mine"))}, nil},
		{"preferred holder without strategy", coordinationv1.LeaseSpec{PreferredHolder: &holder},
			[]string{"spec.preferredHolder: Forbidden: may only be specified if `strategy` is defined"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := &coordinationv1.Lease{Spec: tc.spec}
			checkErrors(t, Strategy().Validate(context.Background(), l), tc.want)
			checkErrors(t, ValidateUpdate(context.Background(), l, l), tc.want)
		})
	}
}
