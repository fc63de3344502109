package integration

import (
	"context"
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/testcluster"
)

// TestDualStackServices gives the cluster two service CIDRs: Services stay
// single-stack IPv4 by default and get an address of each family when
// they ask for dual stack.
func TestDualStackServices(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Cluster: app.ClusterConfig{ServiceCIDRs: []string{"10.96.0.0/16", "fd00:10:96::/112"}}})
	ctx := context.Background()
	svcs := c.Client.CoreV1().Services("default")
	single, err := svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "single"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(single.Spec.ClusterIPs) != 1 || *single.Spec.IPFamilyPolicy != corev1.IPFamilyPolicySingleStack || single.Spec.IPFamilies[0] != corev1.IPv4Protocol {
		t.Fatalf("default service: %v %v %v", single.Spec.ClusterIPs, *single.Spec.IPFamilyPolicy, single.Spec.IPFamilies)
	}
	dual, err := svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "dual"},
		Spec: corev1.ServiceSpec{IPFamilyPolicy: ptr.To(corev1.IPFamilyPolicyPreferDualStack), Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(dual.Spec.ClusterIPs) != 2 {
		t.Fatalf("dual-stack service: %v", dual.Spec.ClusterIPs)
	}
	v4, v6 := netip.MustParseAddr(dual.Spec.ClusterIPs[0]), netip.MustParseAddr(dual.Spec.ClusterIPs[1])
	if !netip.MustParsePrefix("10.96.0.0/16").Contains(v4) || !netip.MustParsePrefix("fd00:10:96::/112").Contains(v6) {
		t.Fatalf("addresses %s %s outside the service CIDRs", v4, v6)
	}
	six, err := svcs.Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "six"},
		Spec: corev1.ServiceSpec{IPFamilies: []corev1.IPFamily{corev1.IPv6Protocol}, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	if err != nil || !netip.MustParseAddr(six.Spec.ClusterIP).Is6() {
		t.Fatalf("IPv6-only service: %v %+v", err, six)
	}
}
