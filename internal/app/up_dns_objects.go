package app

import (
	"context"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// The kube-system Service every pod's resolv.conf names, as kubeadm
// creates it for CoreDNS.
const kubeDNSName = "kube-dns"

// kubeDNSLabels are kubeadm's labels of the kube-dns Service.
func kubeDNSLabels() map[string]string {
	return map[string]string{"k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CoreDNS"}
}

// kubeDNSPorts are the Service's ports: dns (53/UDP), dns-tcp (53/TCP)
// and metrics (9153/TCP).
func kubeDNSPorts() []corev1.ServicePort {
	return []corev1.ServicePort{
		{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP, TargetPort: intstr.FromInt32(53)},
		{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(53)},
		{Name: "metrics", Port: 9153, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(9153)},
	}
}

// ensureKubeDNSService creates kube-system/kube-dns at clusterIP when it
// is missing, and keeps its selector as up runs DNS: k8s-app=kube-dns for
// the coredns pods (pods true), none when the DNS server runs inside up
// and writeKubeDNSEndpoints writes its Endpoints.
func ensureKubeDNSService(ctx context.Context, client kubernetes.Interface, clusterIP string, pods bool) error {
	var selector map[string]string
	if pods {
		selector = map[string]string{"k8s-app": kubeDNSName}
	}
	svcs := client.CoreV1().Services("kube-system")
	cur, err := svcs.Get(ctx, kubeDNSName, metav1.GetOptions{})
	if err == nil {
		if len(cur.Spec.Selector) == len(selector) {
			return nil
		}
		cur.Spec.Selector = selector
		_, err = svcs.Update(ctx, cur, metav1.UpdateOptions{})
		return err
	}
	if !apierrors.IsNotFound(err) {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: kubeDNSName, Namespace: "kube-system", Labels: kubeDNSLabels(),
			Annotations: map[string]string{"prometheus.io/port": "9153", "prometheus.io/scrape": "true"}},
		Spec: corev1.ServiceSpec{ClusterIP: clusterIP, Ports: kubeDNSPorts(), Selector: selector},
	}
	if _, err := svcs.Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create kube-system/%s: %w", kubeDNSName, err)
	}
	return nil
}

// writeKubeDNSEndpoints points kube-dns at the DNS server's address (the
// mirroring controller makes the EndpointSlice from it).
func writeKubeDNSEndpoints(ctx context.Context, client kubernetes.Interface, addr netip.Addr) error {
	var ports []corev1.EndpointPort
	for _, p := range kubeDNSPorts() {
		ports = append(ports, corev1.EndpointPort{Name: p.Name, Port: p.TargetPort.IntVal, Protocol: p.Protocol})
	}
	want := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: kubeDNSName, Namespace: "kube-system", Labels: kubeDNSLabels()},
		Subsets:    []corev1.EndpointSubset{{Addresses: []corev1.EndpointAddress{{IP: addr.String()}}, Ports: ports}},
	}
	eps := client.CoreV1().Endpoints("kube-system")
	cur, err := eps.Get(ctx, kubeDNSName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = eps.Create(ctx, want, metav1.CreateOptions{})
	case err == nil:
		cur.Labels, cur.Subsets = want.Labels, want.Subsets
		_, err = eps.Update(ctx, cur, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("write kube-system/%s endpoints: %w", kubeDNSName, err)
	}
	return nil
}
