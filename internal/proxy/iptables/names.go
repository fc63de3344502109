package iptables

import (
	"crypto/sha256"
	"encoding/base32"
	"net/netip"
	"strconv"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Chain-name prefixes, as kube-proxy spells them.
const (
	prefixSVC = "KUBE-SVC-"
	prefixSVL = "KUBE-SVL-"
	prefixEXT = "KUBE-EXT-"
	prefixFW  = "KUBE-FW-"
	prefixSEP = "KUBE-SEP-"
	// prefixXLB is the pre-1.24 name of KUBE-SVL, kept only for cleanup.
	prefixXLB = "KUBE-XLB-"
)

// serviceChainPrefixes are the per-service chains a sync may delete.
var serviceChainPrefixes = []string{prefixSVC, prefixSVL, prefixEXT, prefixFW, prefixSEP, prefixXLB}

// isServiceChain says whether chain is a per-service-port chain.
func isServiceChain(chain string) bool {
	for _, p := range serviceChainPrefixes {
		if len(chain) > len(p) && chain[:len(p)] == p {
			return true
		}
	}
	return false
}

// hashName is kube-proxy's chain-name hash: prefix and the first 16
// characters of base32(sha256(the parts joined)).
func hashName(prefix string, parts ...string) string {
	var in [192]byte
	b := in[:0]
	for _, p := range parts {
		b = append(b, p...)
	}
	sum := sha256.Sum256(b)
	// The first 16 characters of base32 are the encoding of the first 10
	// bytes, without padding.
	var out [32]byte
	o := append(out[:0], prefix...)
	n := len(o)
	o = o[:n+16]
	base32.StdEncoding.Encode(o[n:], sum[:10])
	return string(o)
}

// portNames are the cached names and comment bases of one service port:
// hashing is sha256, so it is done once per port and endpoint, not once per
// sync.
type portNames struct {
	name     string // "ns/svc:port"
	proto    string // "tcp"
	svc, svl string
	ext, fw  string
	seps     map[netip.AddrPort]*sepNames
	// clusterIP caches the printed cluster IP.
	clusterIP    netip.Addr
	clusterIPStr string
}

// clusterIPString prints the port's cluster IP once.
func (p *portNames) clusterIPString(a netip.Addr) string {
	if a != p.clusterIP || p.clusterIPStr == "" {
		p.clusterIP, p.clusterIPStr = a, a.String()
	}
	return p.clusterIPStr
}

// sepNames are the cached strings of one endpoint of a service port.
type sepNames struct {
	chain  string
	ip     string // "10.180.0.1"
	ipPort string // "10.180.0.1:80"
	// comment is `"ns/svc:port -> ip:port"`, quoted, made on first use
	// (large clusters leave it out).
	comment string
}

// quotedComment is the endpoint's comment for port (its "ns/svc:port").
func (s *sepNames) quotedComment(port string) string {
	if s.comment == "" {
		s.comment = strconv.Quote(port + " -> " + s.ipPort)
	}
	return s.comment
}

func newPortNames(n proxy.ServicePortName) *portNames {
	name := n.String()
	proto := proxy.ProtoLower(n.Protocol)
	return &portNames{
		name: name, proto: proto,
		svc: hashName(prefixSVC, name, proto), svl: hashName(prefixSVL, name, proto),
		ext: hashName(prefixEXT, name, proto), fw: hashName(prefixFW, name, proto),
		seps: map[netip.AddrPort]*sepNames{},
	}
}

// sep returns the names of endpoint ep, computing them once.
func (p *portNames) sep(ep *proxy.Endpoint) *sepNames {
	key := netip.AddrPortFrom(ep.IP, uint16(ep.Port))
	if s, ok := p.seps[key]; ok {
		return s
	}
	ipPort := key.String()
	s := &sepNames{
		chain:  hashName(prefixSEP, p.name, p.proto, ipPort),
		ip:     ep.IP.String(),
		ipPort: ipPort,
	}
	p.seps[key] = s
	return s
}

// nameCache holds the names of every service port seen.
type nameCache map[proxy.ServicePortName]*portNames

func (c nameCache) get(n proxy.ServicePortName) *portNames {
	if p, ok := c[n]; ok {
		return p
	}
	p := newPortNames(n)
	c[n] = p
	return p
}
