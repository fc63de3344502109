package cluster

// parse.go: query names to requests, as CoreDNS's parse.go. The shapes
// under <zone> are:
//
//	(apex)                                  NODATA (SOA for SOA queries)
//	dns-version                             TXT "1.1.0"
//	svc, pod                                NODATA
//	<ns>.svc, <ns>.pod                      NODATA if the namespace exists
//	<svc>.<ns>.svc                          the Service
//	<ep>.<svc>.<ns>.svc                     one endpoint of the Service
//	_<port>._<proto>.<svc>.<ns>.svc         SRV of a named port
//	<dashed-ip>.<ns>.pod                    a pod (pods insecure/verified)
//
// and anything else, longer names included, is NXDOMAIN. Reverse names
// (in-addr.arpa, ip6.arpa) are parsed to the address they stand for.

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// shape is the kind of name a request asks for.
type shape uint8

const (
	shapeInvalid      shape = iota // in the zone, but no such name: NXDOMAIN
	shapeApex                      // <zone>
	shapeVersion                   // dns-version.<zone>
	shapeRoot                      // svc.<zone>, pod.<zone>
	shapeNamespace                 // <ns>.svc.<zone>
	shapeService                   // <svc>.<ns>.svc.<zone>, with endpoint or port
	shapePodNamespace              // <ns>.pod.<zone>
	shapePod                       // <dashed-ip>.<ns>.pod.<zone>
)

// request is a parsed query name; every field is lowercase.
type request struct {
	shape     shape
	namespace string
	service   string // the Service, or the dashed IP of a pod
	endpoint  string // the endpoint label, for <ep>.<svc>.<ns>.svc
	port      string // the port name without "_", for SRV names
	protocol  string // the protocol without "_", for SRV names
}

// parseRequest parses name, a lowercase FQDN inside zone (a lowercase
// FQDN).
func parseRequest(name, zone string) request {
	if name == zone {
		return request{shape: shapeApex}
	}
	labels := mdns.SplitDomainName(strings.TrimSuffix(name, "."+zone))
	n := len(labels)
	switch {
	case n == 1 && labels[0] == "dns-version":
		return request{shape: shapeVersion}
	case n == 1 && (labels[0] == "svc" || labels[0] == "pod"):
		return request{shape: shapeRoot}
	case labels[n-1] == "svc":
		return parseService(labels[:n-1])
	case labels[n-1] == "pod":
		return parsePod(labels[:n-1])
	}
	return request{}
}

// parseService parses the labels before "svc": [[ep | _port _proto] svc] ns.
func parseService(l []string) request {
	n := len(l)
	if n == 0 || n > 4 {
		return request{}
	}
	r := request{shape: shapeService, namespace: l[n-1]}
	switch n {
	case 1:
		r.shape = shapeNamespace
	case 2:
		r.service = l[0]
	case 3:
		r.service, r.endpoint = l[1], l[0]
	case 4:
		port, okPort := strings.CutPrefix(l[0], "_")
		proto, okProto := strings.CutPrefix(l[1], "_")
		if !okPort || !okProto || port == "" || proto == "" {
			return request{}
		}
		r.service, r.port, r.protocol = l[2], port, proto
	}
	return r
}

// parsePod parses the labels before "pod": [dashed-ip] ns.
func parsePod(l []string) request {
	switch len(l) {
	case 1:
		return request{shape: shapePodNamespace, namespace: l[0]}
	case 2:
		return request{shape: shapePod, namespace: l[1], service: l[0]}
	}
	return request{}
}

// parseDashed parses a dashed pod address, 1-2-3-4 or fd00--1, as
// CoreDNS: three dashes and no "--" is IPv4, anything else IPv6.
func parseDashed(s string) (netip.Addr, bool) {
	if strings.Count(s, "-") == 3 && !strings.Contains(s, "--") {
		s = strings.ReplaceAll(s, "-", ".")
	} else {
		s = strings.ReplaceAll(s, "-", ":")
	}
	a, err := netip.ParseAddr(s)
	return a.Unmap(), err == nil && a.Zone() == ""
}

// Reverse zone suffixes, lowercase FQDNs.
const (
	reverse4 = "in-addr.arpa."
	reverse6 = "ip6.arpa."
)

// reverseZone returns the reverse zone name is in, or "".
func reverseZone(name string) string {
	for _, z := range []string{reverse4, reverse6} {
		if name == z || strings.HasSuffix(name, "."+z) {
			return z
		}
	}
	return ""
}

// parseReverse returns the address a full reverse name (all 4 octets or
// 32 nibbles, lowercase) stands for; ok is false for partial names.
func parseReverse(name string) (netip.Addr, bool) {
	if s, ok := strings.CutSuffix(name, "."+reverse4); ok {
		return parseReverse4(strings.Split(s, "."))
	}
	if s, ok := strings.CutSuffix(name, "."+reverse6); ok {
		return parseReverse6(strings.Split(s, "."))
	}
	return netip.Addr{}, false
}

// parseReverse4 parses the 4 decimal labels of an in-addr.arpa name.
func parseReverse4(labels []string) (netip.Addr, bool) {
	if len(labels) != 4 {
		return netip.Addr{}, false
	}
	labels = slices.Clone(labels)
	slices.Reverse(labels)
	a, err := netip.ParseAddr(strings.Join(labels, "."))
	return a, err == nil && a.Is4()
}

// parseReverse6 parses the 32 hex nibble labels of an ip6.arpa name.
func parseReverse6(labels []string) (netip.Addr, bool) {
	if len(labels) != 32 {
		return netip.Addr{}, false
	}
	var b [16]byte
	for i, l := range labels {
		v, err := strconv.ParseUint(l, 16, 4)
		if err != nil || len(l) != 1 {
			return netip.Addr{}, false
		}
		pos := 31 - i // labels run from the last nibble to the first
		b[pos/2] |= byte(v) << (4 * (1 - pos%2))
	}
	return netip.AddrFrom16(b), true
}
