// Package endpointutil holds what the Endpoints, EndpointSlice and
// mirroring controllers share: which pods belong in endpoints and with
// which ports, which Services a pod change concerns, the
// last-change-trigger-time bookkeeping, and the tracker that tells a
// stale EndpointSlice cache from a fresh one.
package endpointutil

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// ShouldPodBeInEndpoints reports whether a pod contributes an address:
// it has an IP, has not finished, and is not terminating unless
// includeTerminating.
func ShouldPodBeInEndpoints(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return false
	}
	if pod.Status.PodIP == "" && len(pod.Status.PodIPs) == 0 {
		return false
	}
	return includeTerminating || pod.DeletionTimestamp == nil
}

// ReadyCondition returns the pod's Ready condition, or nil.
func ReadyCondition(pod *corev1.Pod) *corev1.PodCondition {
	for i := range pod.Status.Conditions {
		if pod.Status.Conditions[i].Type == corev1.PodReady {
			return &pod.Status.Conditions[i]
		}
	}
	return nil
}

// IsPodReady reports whether the pod's Ready condition is True.
func IsPodReady(pod *corev1.Pod) bool {
	c := ReadyCondition(pod)
	return c != nil && c.Status == corev1.ConditionTrue
}

// PodIPs returns the pod's IPs in canonical form: status.podIPs, or
// status.podIP for objects written without podIPs. Unparsable entries are
// left out.
func PodIPs(pod *corev1.Pod) []netip.Addr {
	raw := make([]string, 0, len(pod.Status.PodIPs))
	for _, ip := range pod.Status.PodIPs {
		raw = append(raw, ip.IP)
	}
	if len(raw) == 0 && pod.Status.PodIP != "" {
		raw = append(raw, pod.Status.PodIP)
	}
	ips := make([]netip.Addr, 0, len(raw))
	for _, s := range raw {
		if ip, ok := ParseIP(s); ok {
			ips = append(ips, ip)
		}
	}
	return ips
}

// ParseIP parses an IP leniently (leading zeros in IPv4 octets are
// accepted, as Kubernetes' ParseIPSloppy does) and unmaps IPv4-in-IPv6.
func ParseIP(s string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(s); err == nil {
		return ip.Unmap(), true
	}
	return parseSloppyIPv4(s)
}

// parseSloppyIPv4 accepts dotted quads whose octets carry leading zeros,
// read as decimal.
func parseSloppyIPv4(s string) (netip.Addr, bool) {
	var b [4]byte
	part, n, digits := 0, 0, 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 || n > 255 || part > 3 {
				return netip.Addr{}, false
			}
			b[part] = byte(n)
			part, n, digits = part+1, 0, 0
			continue
		}
		if s[i] < '0' || s[i] > '9' || digits == 3 {
			return netip.Addr{}, false
		}
		n, digits = n*10+int(s[i]-'0'), digits+1
	}
	if part != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(b), true
}

// ShouldSetHostname reports whether the pod's endpoint carries its
// hostname: the pod names one and its subdomain is the Service's name in
// the same namespace.
func ShouldSetHostname(pod *corev1.Pod, svc *corev1.Service) bool {
	return pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace
}

// FindPort resolves a Service port's targetPort on a pod: a number is used
// as is; a name is looked up among the containers' ports (and those of
// sidecar init containers) with the same protocol.
func FindPort(pod *corev1.Pod, port *corev1.ServicePort) (int32, bool) {
	switch port.TargetPort.Type {
	case intstr.Int:
		return port.TargetPort.IntVal, true
	case intstr.String:
		if n, ok := findNamedPort(pod.Spec.Containers, port); ok {
			return n, true
		}
		return findNamedPort(sidecars(pod), port)
	}
	return 0, false
}

func findNamedPort(containers []corev1.Container, port *corev1.ServicePort) (int32, bool) {
	for _, c := range containers {
		for _, p := range c.Ports {
			if p.Name == port.TargetPort.StrVal && p.Protocol == port.Protocol {
				return p.ContainerPort, true
			}
		}
	}
	return 0, false
}

// sidecars returns the init containers that keep running
// (restartPolicy: Always).
func sidecars(pod *corev1.Pod) []corev1.Container {
	var out []corev1.Container
	for _, c := range pod.Spec.InitContainers {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, c)
		}
	}
	return out
}

// TargetRef is the reference an endpoint keeps to its pod.
func TargetRef(pod *corev1.Pod) *corev1.ObjectReference {
	return &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID}
}
