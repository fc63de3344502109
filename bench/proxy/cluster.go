package main

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/proxy"
)

// The shape of the simulated cluster: N ClusterIP Services in
// 10.96.0.0/12, each with ten ready endpoints on another node in
// 10.244.0.0/16, seen from the node 10.240.0.2.
const (
	namespace    = "bench"
	nodeName     = "bench-node"
	otherNode    = "other-node"
	perService   = 10
	servicePort  = 80
	endpointPort = 8080
	// changedAnnotation holds when the bench changed a slice (RFC 3339
	// with nanoseconds), read as the slice's last-change-trigger-time.
	changedAnnotation = "bench.svcplane.io/changed"
)

var (
	nodeIP      = netip.MustParseAddr("10.240.0.2")
	clusterCIDR = netip.MustParsePrefix("10.244.0.0/16")
	serviceBase = netip.MustParseAddr("10.96.0.0")
)

// cluster is the API objects a proxy watches: n Services and one
// EndpointSlice each.
type cluster struct {
	services []*corev1.Service
	slices   []*discoveryv1.EndpointSlice
	fresh    int // replacement addresses handed out
	rng      *rand.Rand
}

func newCluster(n int) *cluster {
	c := &cluster{rng: rand.New(rand.NewPCG(uint64(n), 1))}
	for i := range n {
		c.services = append(c.services, service(i))
		addrs := make([]string, perService)
		for j := range addrs {
			addrs[j] = endpointIP(i*perService + j).String()
		}
		c.slices = append(c.slices, slice(i, addrs))
	}
	return c
}

func serviceName(i int) string { return fmt.Sprintf("svc-%05d", i) }

// portName is the service port of Service i.
func portName(i int) proxy.ServicePortName {
	return proxy.ServicePortName{
		NamespacedName: types.NamespacedName{Namespace: namespace, Name: serviceName(i)},
		Port:           "http", Protocol: corev1.ProtocolTCP,
	}
}

// clusterIP is 10.96.0.0 + i + 1.
func clusterIP(i int) netip.Addr { return addrPlus(serviceBase, i+1) }

// endpointIP is the k-th endpoint address: 10.244.0-249.1-250 (addresses
// repeat past 62,500 endpoints: one pod backs several Services).
func endpointIP(k int) netip.Addr {
	k %= 250 * 250
	return netip.AddrFrom4([4]byte{10, 244, byte(k / 250), byte(k%250 + 1)})
}

// freshIP is the k-th replacement address, in 10.244.250-255.x: never an
// original endpoint address.
func freshIP(k int) netip.Addr {
	k %= 6 * 250
	return netip.AddrFrom4([4]byte{10, 244, byte(250 + k/250), byte(k%250 + 1)})
}

func addrPlus(a netip.Addr, n int) netip.Addr {
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func service(i int) *corev1.Service {
	ip := clusterIP(i).String()
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: serviceName(i)},
		Spec: corev1.ServiceSpec{
			Type:       corev1.ServiceTypeClusterIP,
			ClusterIP:  ip,
			ClusterIPs: []string{ip},
			IPFamilies: []corev1.IPFamily{corev1.IPv4Protocol},
			Ports: []corev1.ServicePort{{
				Name: "http", Port: servicePort, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromInt32(endpointPort),
			}},
		},
	}
}

func slice(i int, addrs []string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: namespace, Name: serviceName(i) + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: serviceName(i)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](endpointPort), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	for _, a := range addrs {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{
			Addresses:  []string{a},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)},
			NodeName:   ptr.To(otherNode),
		})
	}
	return s
}

// replace gives one endpoint of a random Service a new address, as a pod
// replaced by another would, and returns the Service's index and its new
// slice (a new object, as an informer delivers), stamped with the time.
func (c *cluster) replace() (int, *discoveryv1.EndpointSlice) { return c.replaceAmong(len(c.slices)) }

// replaceAmong is replace for one of the first n Services.
func (c *cluster) replaceAmong(n int) (int, *discoveryv1.EndpointSlice) {
	i := c.rng.IntN(n)
	old := c.slices[i]
	addrs := make([]string, len(old.Endpoints))
	for j, e := range old.Endpoints {
		addrs[j] = e.Addresses[0]
	}
	addrs[c.rng.IntN(len(addrs))] = freshIP(c.fresh).String()
	c.fresh++
	s := slice(i, addrs)
	s.Annotations = map[string]string{changedAnnotation: time.Now().Format(time.RFC3339Nano)}
	c.slices[i] = s
	return i, s
}

// changedAt reads the bench's change time of a slice.
func changedAt(s *discoveryv1.EndpointSlice) (time.Time, bool) {
	v, ok := s.Annotations[changedAnnotation]
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

// options are the proxy settings of the bench: cluster CIDR 10.244.0.0/16.
func options() proxy.Options {
	return proxy.Options{ClusterCIDRs: []netip.Prefix{clusterCIDR}, MasqueradeBit: 14}
}

func node() proxy.Node { return proxy.Node{Name: nodeName, IPs: []netip.Addr{nodeIP}} }

// input is what the proxier keeps for the cluster: the service port and
// endpoints maps that Build reads, for a full sync.
func (c *cluster) input() proxy.Input {
	in := proxy.Input{
		Family: corev1.IPv4Protocol, Node: node(), Options: options(),
		Services:  make(map[proxy.ServicePortName]*proxy.ServicePort, len(c.services)),
		Endpoints: make(proxy.EndpointsMap, len(c.services)),
		Full:      true,
	}
	for i, svc := range c.services {
		for _, sp := range proxy.ServicePorts(svc, corev1.IPv4Protocol) {
			in.Services[sp.Name] = sp
		}
		c.endpointsInto(in.Endpoints, i)
	}
	return in
}

// endpointsInto writes the endpoints of Service i's slice into m.
func (c *cluster) endpointsInto(m proxy.EndpointsMap, i int) {
	nn := types.NamespacedName{Namespace: namespace, Name: serviceName(i)}
	for name, eps := range proxy.SliceEndpoints(nn, c.slices[i:i+1], nodeName) {
		m[name] = eps
	}
}

// partial replaces one endpoint and returns the partial State after prev
// that names only the changed service port.
func (c *cluster) partial(in *proxy.Input, prev *proxy.State) *proxy.State {
	i, _ := c.replace()
	c.endpointsInto(in.Endpoints, i)
	in.Full = false
	in.Changed = map[proxy.ServicePortName]bool{portName(i): true}
	in.Previous = prev
	return proxy.Build(*in)
}
