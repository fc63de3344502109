package serviceaccount

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestMissing(t *testing.T) {
	deleted := metav1.Now()
	active := corev1.NamespaceStatus{Phase: corev1.NamespaceActive}
	cases := []struct {
		name     string
		ns       *corev1.Namespace
		existing []string
		want     []string
	}{
		{"new namespace", &corev1.Namespace{Status: active}, nil, []string{"default"}},
		{"no phase yet", &corev1.Namespace{}, nil, []string{"default"}},
		{"already there", &corev1.Namespace{Status: active}, []string{"default"}, nil},
		{"terminating", &corev1.Namespace{Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}}, nil, nil},
		{"being deleted", &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{DeletionTimestamp: &deleted}, Status: active}, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Missing(tc.ns, []string{"default"}, tc.existing); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}
