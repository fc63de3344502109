package endpoints

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// podSubsets returns one single-address subset per (pod, Service port) the
// pods contribute, before repacking: ready pods (all of them with
// publishNotReadyAddresses) as addresses, the others as notReadyAddresses.
// Pods without an IP of the Service's primary family are skipped, as are
// ports a pod does not have.
func podSubsets(svc *corev1.Service, pods []*corev1.Pod) []corev1.EndpointSubset {
	publish := svc.Spec.PublishNotReadyAddresses
	var out []corev1.EndpointSubset
	for _, pod := range pods {
		if !endpointutil.ShouldPodBeInEndpoints(pod, publish) {
			continue
		}
		addr, ok := podAddress(svc, pod)
		if !ok {
			continue
		}
		ready := publish || endpointutil.IsPodReady(pod)
		for _, ports := range podPorts(svc, pod) {
			out = append(out, oneAddressSubset(addr, ports, ready))
		}
	}
	return out
}

// podAddress is the pod's address in the Service's Endpoints.
func podAddress(svc *corev1.Service, pod *corev1.Pod) (corev1.EndpointAddress, bool) {
	ip, ok := endpointutil.PodIPOfType(pod, endpointutil.PrimaryAddressType(svc, pod))
	if !ok {
		return corev1.EndpointAddress{}, false
	}
	addr := corev1.EndpointAddress{IP: ip.String(), TargetRef: endpointutil.TargetRef(pod)}
	if pod.Spec.NodeName != "" {
		nodeName := pod.Spec.NodeName
		addr.NodeName = &nodeName
	}
	if endpointutil.ShouldSetHostname(pod, svc) {
		addr.Hostname = pod.Spec.Hostname
	}
	return addr, true
}

// podPorts lists the port lists of the subsets a pod contributes: one per
// Service port it resolves, or a single empty one for a headless Service
// without ports.
func podPorts(svc *corev1.Service, pod *corev1.Pod) [][]corev1.EndpointPort {
	if len(svc.Spec.Ports) == 0 {
		if svc.Spec.ClusterIP == corev1.ClusterIPNone {
			return [][]corev1.EndpointPort{nil}
		}
		return nil
	}
	var out [][]corev1.EndpointPort
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		n, ok := endpointutil.FindPort(pod, sp)
		if !ok {
			continue
		}
		out = append(out, []corev1.EndpointPort{{Name: sp.Name, Port: n, Protocol: sp.Protocol, AppProtocol: sp.AppProtocol}})
	}
	return out
}

func oneAddressSubset(addr corev1.EndpointAddress, ports []corev1.EndpointPort, ready bool) corev1.EndpointSubset {
	if ready {
		return corev1.EndpointSubset{Addresses: []corev1.EndpointAddress{addr}, Ports: ports}
	}
	return corev1.EndpointSubset{NotReadyAddresses: []corev1.EndpointAddress{addr}, Ports: ports}
}
