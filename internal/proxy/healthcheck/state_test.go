package healthcheck

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

func TestTargets(t *testing.T) {
	ns2 := types.NamespacedName{Namespace: "ns2", Name: "svc2"}
	ns4 := types.NamespacedName{Namespace: "ns4", Name: "svc4"}
	localNS4 := proxytest.OverallServices()
	for _, s := range localNS4 {
		if s.Namespace == "ns4" {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.HealthCheckNodePort = 30004
			s.Spec.InternalTrafficPolicy = ptr.To(corev1.ServiceInternalTrafficPolicyCluster)
		}
	}
	tests := []struct {
		name      string
		services  []*corev1.Service
		wantPorts map[types.NamespacedName]uint16
		wantLocal map[types.NamespacedName]int
	}{
		{"overall fixtures", proxytest.OverallServices(),
			map[types.NamespacedName]uint16{ns2: 30000}, map[types.NamespacedName]int{ns2: 0}},
		{"a Local service with a local endpoint", localNS4,
			map[types.NamespacedName]uint16{ns2: 30000, ns4: 30004}, map[types.NamespacedName]int{ns2: 0, ns4: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ports, local := Targets(proxytest.State(tt.services, proxytest.OverallSlices()))
			if d := cmp.Diff(tt.wantPorts, ports); d != "" {
				t.Errorf("ports (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantLocal, local); d != "" {
				t.Errorf("local endpoints (-want +got):\n%s", d)
			}
		})
	}
}
