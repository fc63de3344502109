package podnet

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func node(name, ip, cidr string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: cidr}}
	if ip != "" {
		n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: name}, {Type: corev1.NodeInternalIP, Address: ip}}
	}
	return n
}

func TestHostGWRoutes(t *testing.T) {
	nodes := []*corev1.Node{
		node("c", "10.240.0.4", "10.244.2.0/24"),
		node("a", "10.240.0.2", "10.244.0.0/24"),
		node("b", "10.240.0.3", "10.244.1.0/24"),
		node("no-ip", "", "10.244.3.0/24"),
		node("no-cidr", "10.240.0.6", ""),
	}
	got := fmt.Sprint(HostGWRoutes("a", nodes))
	want := "[{10.244.1.0/24 10.240.0.3} {10.244.2.0/24 10.240.0.4}]"
	if got != want {
		t.Errorf("routes of a: %s, want %s", got, want)
	}
}
