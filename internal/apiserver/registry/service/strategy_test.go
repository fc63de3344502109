package service

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
)

func TestFieldSet(t *testing.T) {
	got := FieldSet(stored(nodePortType(30080)))
	want := fields.Set{
		"metadata.name": "web", "metadata.namespace": "default",
		"spec.clusterIP": "10.96.0.10", "spec.type": "NodePort",
	}
	if got.String() != want.String() {
		t.Errorf("FieldSet = %v, want %v", got, want)
	}
}

func TestPrepare(t *testing.T) {
	lbStatus := func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
	}
	t.Run("create resets status", func(t *testing.T) {
		svc := stored(loadBalancer(30080), lbStatus)
		PrepareForCreate(svc)
		if len(svc.Status.LoadBalancer.Ingress) != 0 {
			t.Errorf("status kept: %+v", svc.Status)
		}
	})
	t.Run("update keeps the stored status", func(t *testing.T) {
		old := stored(loadBalancer(30080), lbStatus)
		svc := stored(loadBalancer(30080))
		PrepareForUpdate(svc, old)
		if len(svc.Status.LoadBalancer.Ingress) != 1 {
			t.Errorf("status not kept: %+v", svc.Status)
		}
	})
	t.Run("status update keeps the stored spec", func(t *testing.T) {
		old := stored(loadBalancer(30080))
		svc := stored(loadBalancer(30080), lbStatus, withType(corev1.ServiceTypeClusterIP))
		PrepareForStatusUpdate(svc, old)
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer || len(svc.Status.LoadBalancer.Ingress) != 1 {
			t.Errorf("got type %s, status %+v", svc.Spec.Type, svc.Status)
		}
	})
}

func TestStrategy(t *testing.T) {
	ctx := context.Background()
	s := Strategy(singleV4)
	svc := manifest()
	s.Default(svc)
	if svc.Spec.Type != corev1.ServiceTypeClusterIP {
		t.Errorf("Default not applied: type %q", svc.Spec.Type)
	}
	checkErrors(t, s.Validate(ctx, stored(withPorts())), []string{"spec.ports: Required value"})
	checkErrors(t, s.ValidateUpdate(ctx, stored(withClusterIPs("10.96.0.11")), stored()),
		[]string{`spec.clusterIPs[0]: Invalid value: ["10.96.0.11"]: may not change once set`})
	checkErrors(t, s.ValidateStatusUpdate(ctx, stored(func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
	}), stored()), []string{"status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'"})
	checkStrings(t, "warnings", s.Warnings(ctx, stored(func(s *corev1.Service) { s.Spec.ExternalName = "x.example.com" }), nil),
		[]string{`spec.externalName is ignored when spec.type is not "ExternalName"`})
	if got := s.FieldSet(stored()); got["spec.type"] != "ClusterIP" {
		t.Errorf("FieldSet = %v", got)
	}
	created := stored(loadBalancer(30080), func(s *corev1.Service) {
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.com"}}
	})
	s.PrepareForCreate(ctx, created)
	if len(created.Status.LoadBalancer.Ingress) != 0 {
		t.Errorf("PrepareForCreate kept the status")
	}
}
