// Package cluster answers the Kubernetes cluster domain (cluster.local) and
// the reverse zones (in-addr.arpa, ip6.arpa) from the API, following the
// Kubernetes DNS-Based Service Discovery spec (schema 1.1.0) and the answer
// semantics of CoreDNS's kubernetes plugin.
//
// As in CoreDNS, watching is kept apart from answering:
//
//   - watch.go runs client-go informers on Services, EndpointSlices and
//     Namespaces (and Pods when needed), trims the objects (transform.go) and
//     feeds their events to an index (index*.go) of small immutable records
//     (records.go), updated incrementally and looked up in O(1);
//   - parse.go turns a query name into a request, answer.go and lookup.go
//     build the records from the index, autopath.go completes a pod's search
//     path on the server side.
//
// Before the informers have synced, every name of the cluster zone is
// answered SERVFAIL: "not known yet" is never "absent".
package cluster

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"

	mdns "github.com/miekg/dns"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/dns"
)

// Defaults and limits of Config.
const (
	// DefaultZone is the cluster domain.
	DefaultZone = "cluster.local"
	// DefaultTTL is the TTL of every record but dns-version, as kubeadm's
	// Corefile sets it (`ttl 30`).
	DefaultTTL uint32 = 30
	// MaxTTL is the largest TTL allowed, as in CoreDNS.
	MaxTTL uint32 = 3600
)

// Pod modes, as CoreDNS's `pods` option.
const (
	// PodsDisabled answers NXDOMAIN for every name under pod.<zone>.
	PodsDisabled = "disabled"
	// PodsInsecure answers a-b-c-d.<ns>.pod.<zone> with a.b.c.d unchecked.
	PodsInsecure = "insecure"
	// PodsVerified answers only if a pod with that IP exists in <ns>.
	PodsVerified = "verified"
)

// Config configures a Cluster.
type Config struct {
	// Client reads Services, EndpointSlices, Namespaces and, with pods
	// verified or Autopath, Pods. Only Run needs it.
	Client kubernetes.Interface
	// Zone is the cluster domain; DefaultZone when empty.
	Zone string
	// TTL of the answers, 0..MaxTTL; DefaultTTL when 0 (a TTL of 0
	// cannot be asked for).
	TTL uint32
	// Pods is PodsDisabled (when empty), PodsInsecure or PodsVerified.
	Pods string
	// Autopath completes the search path of a known pod on the server
	// side; it watches Pods.
	Autopath bool
	// Forwarder resolves the last search-path element (the bare name)
	// for Autopath; without it Autopath stops at the cluster zone.
	Forwarder dns.Forwarder
	// Logger receives the component's logs; slog.Default when nil.
	Logger *slog.Logger
}

// Validate reports the first invalid field of c.
func (c Config) Validate() error {
	switch c.Pods {
	case "", PodsDisabled, PodsInsecure, PodsVerified:
	default:
		return fmt.Errorf("pods mode %q: want %s, %s or %s", c.Pods, PodsDisabled, PodsInsecure, PodsVerified)
	}
	if c.TTL > MaxTTL {
		return fmt.Errorf("ttl %d: above %d", c.TTL, MaxTTL)
	}
	zone := strings.Trim(c.Zone, ".")
	if _, ok := mdns.IsDomainName(zone); c.Zone != "" && (zone == "" || !ok) {
		return fmt.Errorf("zone %q: not a domain name", c.Zone)
	}
	return nil
}

// Cluster answers the cluster domain and the reverse zones from an index
// of the API's Services, EndpointSlices, Namespaces and Pods.
type Cluster struct {
	cfg   Config
	zone  string // lowercase FQDN, e.g. "cluster.local."
	ttl   uint32
	pods  string
	log   *slog.Logger
	idx   *index
	ready atomic.Bool
	soa   atomic.Pointer[mdns.SOA] // the zone's SOA at the last serial answered
}

var (
	_ dns.Answerer      = (*Cluster)(nil)
	_ dns.QuickAnswerer = (*Cluster)(nil)
)

// New returns a Cluster for cfg, with defaults for the empty fields and
// the TTL capped at MaxTTL. It watches nothing until Run.
func New(cfg Config) *Cluster {
	c := &Cluster{
		cfg:  cfg,
		zone: normalizeZone(cfg.Zone),
		ttl:  cfg.TTL,
		pods: cfg.Pods,
		log:  cfg.Logger,
		idx:  newIndex(),
	}
	if c.ttl == 0 {
		c.ttl = DefaultTTL
	}
	c.ttl = min(c.ttl, MaxTTL)
	if c.pods == "" {
		c.pods = PodsDisabled
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.log = c.log.With("component", "dns-cluster")
	return c
}

// normalizeZone returns zone as a lowercase FQDN, DefaultZone when empty.
func normalizeZone(zone string) string {
	zone = strings.Trim(zone, ".")
	if zone == "" {
		zone = DefaultZone
	}
	return strings.ToLower(zone) + "."
}

// Ready says the informers have synced and the index holds the API's
// state; before that, names of the zone are answered SERVFAIL.
func (c *Cluster) Ready() bool { return c.ready.Load() }

// Stats counts what the index holds.
type Stats struct {
	Namespaces     int
	Services       int
	EndpointSlices int
	// Endpoints counts endpoint addresses over all slices.
	Endpoints int
	Pods      int
}

// Stats returns the counts of the index, e.g. for memory benchmarks.
func (c *Cluster) Stats() Stats { return c.idx.stats() }

// watchPods says whether the Pod informer is needed.
func (c *Cluster) watchPods() bool { return c.pods == PodsVerified || c.cfg.Autopath }
