package allocator

import (
	"fmt"
	"testing"

	v1 "k8s.io/api/core/v1"
)

func TestHeld(t *testing.T) {
	lb := stored("default", "lb", "LoadBalancer", []string{"10.96.0.20", "fd00::20"},
		port("dns", "TCP", 53, 30053), port("dns-udp", "UDP", 53, 30053), port("http", "TCP", 80, 30080))
	lb.Spec.HealthCheckNodePort = 30010
	tests := []struct {
		name string
		svc  *v1.Service
		want string
	}{
		{"cluster IP", stored("default", "a", "ClusterIP", []string{"10.96.0.10"}), "[10.96.0.10] []"},
		{"only spec.clusterIP", &v1.Service{Spec: v1.ServiceSpec{ClusterIP: "10.96.0.11"}}, "[10.96.0.11] []"},
		{"dual-stack load balancer", lb, "[10.96.0.20 fd00::20] [30010 30053 30080]"},
		{"headless node ports", stored("default", "h", "NodePort", []string{"None"}, port("x", "TCP", 1, 30001)), "[] [30001]"},
		{"external name", stored("default", "e", "ExternalName", []string{"10.96.0.12"}), "[] []"},
		{"unparsable", stored("default", "bad", "ClusterIP", []string{"not-an-ip"}), "[] []"},
		{"mapped IPv4", stored("default", "m", "ClusterIP", []string{"::ffff:10.96.0.13"}), "[10.96.0.13] []"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ips, ports := Held(tt.svc)
			if got := fmt.Sprint(ips, ports); got != tt.want {
				t.Errorf("Held = %s, want %s", got, tt.want)
			}
		})
	}
}
