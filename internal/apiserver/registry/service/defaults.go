package service

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Default applies the core/v1 scheme defaults (SetDefaults_Service). It
// runs on every decoded object, create and update alike, so it sets nothing
// that depends on the stored object or the cluster: ipFamilies and
// ipFamilyPolicy are initialised by BeginCreate and BeginUpdate.
func Default(svc *corev1.Service) {
	defaultSessionAffinity(&svc.Spec)
	if svc.Spec.Type == "" {
		svc.Spec.Type = corev1.ServiceTypeClusterIP
	}
	defaultPorts(svc.Spec.Ports)
	if externallyAccessible(svc) && svc.Spec.ExternalTrafficPolicy == "" {
		svc.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyCluster
	}
	if svc.Spec.InternalTrafficPolicy == nil && hasClusterIPType(svc) {
		p := corev1.ServiceInternalTrafficPolicyCluster
		svc.Spec.InternalTrafficPolicy = &p
	}
	if svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		if svc.Spec.AllocateLoadBalancerNodePorts == nil {
			allocate := true
			svc.Spec.AllocateLoadBalancerNodePorts = &allocate
		}
		defaultIngressIPMode(&svc.Status.LoadBalancer)
	}
}

func defaultSessionAffinity(spec *corev1.ServiceSpec) {
	if spec.SessionAffinity == "" {
		spec.SessionAffinity = corev1.ServiceAffinityNone
	}
	switch spec.SessionAffinity {
	case corev1.ServiceAffinityNone:
		spec.SessionAffinityConfig = nil
	case corev1.ServiceAffinityClientIP:
		cfg := spec.SessionAffinityConfig
		if cfg == nil || cfg.ClientIP == nil || cfg.ClientIP.TimeoutSeconds == nil {
			timeout := corev1.DefaultClientIPServiceAffinitySeconds
			spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{
				ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: &timeout},
			}
		}
	}
}

func defaultPorts(ports []corev1.ServicePort) {
	for i := range ports {
		sp := &ports[i]
		if sp.Protocol == "" {
			sp.Protocol = corev1.ProtocolTCP
		}
		if sp.TargetPort == intstr.FromInt32(0) || sp.TargetPort == intstr.FromString("") {
			sp.TargetPort = intstr.FromInt32(sp.Port)
		}
	}
}

// defaultIngressIPMode sets ipMode VIP on ingress points with an IP
// (LoadBalancerIPMode, GA in 1.32).
func defaultIngressIPMode(status *corev1.LoadBalancerStatus) {
	for i := range status.Ingress {
		ing := &status.Ingress[i]
		if ing.IP != "" && ing.IPMode == nil {
			mode := corev1.LoadBalancerIPModeVIP
			ing.IPMode = &mode
		}
	}
}
