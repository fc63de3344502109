package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
)

// namespaces is how many namespaces the Services are spread over.
const namespaces = 10

// creators is how many objects are created concurrently.
const creators = 32

// svcName and svcNamespace name Service number i.
func svcName(i int) string      { return fmt.Sprintf("svc-%04d", i) }
func svcNamespace(i int) string { return fmt.Sprintf("ns-%d", i%namespaces) }

// headless says whether Service i is headless: one in ten, spread over
// the namespaces.
func headless(i int) bool { return (i/namespaces)%10 == 9 }

// populate creates the namespaces, n Services (ports http/TCP and dns/UDP,
// selectorless so that no controller touches their slices) and one
// EndpointSlice of perService ready endpoints for each.
func populate(ctx context.Context, c kubernetes.Interface, n, perService int) error {
	for i := range namespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: svcNamespace(i)}}
		if _, err := c.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create namespace: %w", err)
		}
	}
	return benchutil.ParallelErr(n, creators, func(i int) error {
		if _, err := c.CoreV1().Services(svcNamespace(i)).Create(ctx, service(i), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create service %d: %w", i, err)
		}
		_, err := c.DiscoveryV1().EndpointSlices(svcNamespace(i)).Create(ctx, endpointSlice(i, perService), metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("create endpointslice %d: %w", i, err)
		}
		return nil
	})
}

func service(i int) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: svcName(i), Namespace: svcNamespace(i)},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
			{Name: "http", Protocol: corev1.ProtocolTCP, Port: 80, TargetPort: intstr.FromInt32(8080)},
			{Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53, TargetPort: intstr.FromInt32(53)},
		}},
	}
	if headless(i) {
		s.Spec.ClusterIP = corev1.ClusterIPNone
	}
	return s
}

func endpointSlice(i, perService int) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: svcName(i) + "-1", Namespace: svcNamespace(i), Labels: map[string]string{
			discoveryv1.LabelServiceName: svcName(i), discoveryv1.LabelManagedBy: "bench-dns",
		}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports: []discoveryv1.EndpointPort{
			{Name: ptr.To("http"), Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To[int32](8080)},
			{Name: ptr.To("dns"), Protocol: ptr.To(corev1.ProtocolUDP), Port: ptr.To[int32](53)},
		},
	}
	for j := range perService {
		ep := discoveryv1.Endpoint{
			Addresses:  []string{endpointIP(i*perService + j).String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
		}
		if headless(i) {
			ep.Hostname = ptr.To(fmt.Sprintf("ep-%d", j))
		}
		es.Endpoints = append(es.Endpoints, ep)
	}
	return es
}

// endpointIP is the address of endpoint k, counted from 10.128.0.1.
func endpointIP(k int) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], 0x0a800001+uint32(k))
	return netip.AddrFrom4(b)
}
