package cluster

// helpers_test.go: API object builders, a Cluster fed without a clientset,
// and the runner of query tables whose expected answers are zone-file
// lines, compared as sorted text.

import (
	"context"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	mdns "github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// testSerial is the SOA serial of test Clusters (their clock is frozen).
const testSerial = 1700000000

// soa is the SOA every negative answer of the cluster zone carries.
const soa = "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1700000000 7200 1800 86400 30"

// newTestCluster returns a ready Cluster of cfg holding objs, fed to the
// index as informer events would be.
func newTestCluster(t *testing.T, cfg Config, objs ...any) *Cluster {
	t.Helper()
	c := New(cfg)
	c.idx.now = func() time.Time { return time.Unix(testSerial, 0) }
	for _, o := range objs {
		c.idx.set(o)
	}
	c.ready.Store(true)
	return c
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

func servicePort(name, protocol string, port int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: corev1.Protocol(protocol), Port: port}
}

// clusterIPService returns a ClusterIP Service with clusterIPs ips.
func clusterIPService(ns, name string, ips []string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{
			Type: corev1.ServiceTypeClusterIP, ClusterIP: ips[0], ClusterIPs: ips, Ports: ports,
		},
	}
}

// headlessService returns a Service with clusterIP None.
func headlessService(ns, name string, publishNotReady bool, ports ...corev1.ServicePort) *corev1.Service {
	s := clusterIPService(ns, name, []string{corev1.ClusterIPNone}, ports...)
	s.Spec.PublishNotReadyAddresses = publishNotReady
	return s
}

// externalService returns an ExternalName Service to target.
func externalService(ns, name, target string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: target},
	}
}

func slicePort(name, protocol string, port int32) discoveryv1.EndpointPort {
	p := corev1.Protocol(protocol)
	return discoveryv1.EndpointPort{Name: &name, Protocol: &p, Port: &port}
}

// readyEP is a ready endpoint; hostname "" leaves it unset.
func readyEP(ip, hostname string) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}
	if hostname != "" {
		e.Hostname = &hostname
	}
	return e
}

// notReadyEP is an endpoint whose ready condition is false.
func notReadyEP(ip, hostname string) discoveryv1.Endpoint {
	e := readyEP(ip, hostname)
	e.Conditions.Ready = ptr.To(false)
	return e
}

// endpointSlice returns slice name of Service svc (none when "").
func endpointSlice(ns, name, svc string, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: name},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       ports,
		Endpoints:   eps,
	}
	if svc != "" {
		s.Labels = map[string]string{discoveryv1.LabelServiceName: svc}
	}
	return s
}

// testPod returns a Pod with phase and ips.
func testPod(ns, name string, phase corev1.PodPhase, ips ...string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Status: corev1.PodStatus{Phase: phase}}
	for _, ip := range ips {
		p.Status.PodIPs = append(p.Status.PodIPs, corev1.PodIP{IP: ip})
	}
	if len(ips) > 0 {
		p.Status.PodIP = ips[0]
	}
	return p
}

// query is one row of a query table.
type query struct {
	name   string
	qname  string
	qtype  uint16
	client string // the asking address; 10.250.0.1 when empty
	// noAnswer expects nil: the name is not the Cluster's.
	noAnswer bool
	rcode    int
	answer   []string
	ns       []string
	extra    []string
}

// runQueries asks c every query and compares the replies.
func runQueries(t *testing.T, c *Cluster, queries []query) {
	t.Helper()
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			checkQuery(t, c, q)
		})
	}
}

// checkQuery asks c q and compares the reply.
func checkQuery(t *testing.T, c *Cluster, q query) {
	t.Helper()
	req := new(mdns.Msg).SetQuestion(q.qname, q.qtype)
	client := netip.MustParseAddr("10.250.0.1")
	if q.client != "" {
		client = netip.MustParseAddr(q.client)
	}
	resp := c.Answer(context.Background(), req, client)
	if q.noAnswer {
		if resp != nil {
			t.Fatalf("Answer(%s %s) = %v, want nil", q.qname, mdns.TypeToString[q.qtype], resp)
		}
		return
	}
	if resp == nil {
		t.Fatalf("Answer(%s %s) = nil", q.qname, mdns.TypeToString[q.qtype])
	}
	checkHeader(t, req, resp, q.rcode)
	compareSection(t, "answer", q.answer, resp.Answer)
	compareSection(t, "authority", q.ns, resp.Ns)
	compareSection(t, "additional", q.extra, resp.Extra)
}

// checkHeader checks that resp answers req with rcode.
func checkHeader(t *testing.T, req, resp *mdns.Msg, rcode int) {
	t.Helper()
	if resp.Rcode != rcode {
		t.Errorf("rcode = %s, want %s", mdns.RcodeToString[resp.Rcode], mdns.RcodeToString[rcode])
	}
	if resp.Id != req.Id || !resp.Response || !slices.Equal(resp.Question, req.Question) {
		t.Errorf("reply header/question %v do not echo the request %v", resp.MsgHdr, req.Question)
	}
	if rcode != mdns.RcodeServerFailure && !resp.Authoritative {
		t.Errorf("reply is not authoritative")
	}
}

// compareSection compares a section with zone-file lines, as sorted text.
func compareSection(t *testing.T, section string, want []string, got []mdns.RR) {
	t.Helper()
	if diff := cmp.Diff(canonical(t, want), rrLines(got)); diff != "" {
		t.Errorf("%s section (-want +got):\n%s", section, diff)
	}
}

// canonical parses zone-file lines and prints them back, sorted.
func canonical(t *testing.T, lines []string) []string {
	t.Helper()
	out := []string{}
	for _, l := range lines {
		rr, err := mdns.NewRR(l)
		if err != nil || rr == nil {
			t.Fatalf("bad expected record %q: %v", l, err)
		}
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}

// rrLines prints records as zone-file lines, sorted.
func rrLines(rrs []mdns.RR) []string {
	out := []string{}
	for _, rr := range rrs {
		out = append(out, rr.String())
	}
	slices.Sort(out)
	return out
}
