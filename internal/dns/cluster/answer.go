package cluster

// answer.go: Answer, the entry point. It picks the zone, parses the name
// (parse.go), resolves it against the index (lookup.go) into a result and
// writes the reply: authoritative, the question and ID echoed, and the
// zone's SOA in Authority for every negative answer (NXDOMAIN, NODATA).

import (
	"context"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"
)

// result is a resolved name: an rcode (NXDOMAIN or NOERROR) and records.
// NOERROR with no answer is NODATA.
type result struct {
	rcode  int
	answer []mdns.RR
	extra  []mdns.RR
}

// nxdomain is the result for a name that does not exist.
func nxdomain() result { return result{rcode: mdns.RcodeNameError} }

// nodata is the result for a name that exists without records of the
// asked type.
func nodata() result { return result{rcode: mdns.RcodeSuccess} }

// Answer implements dns.Answerer: the reply to req for names in the
// cluster zone and for known addresses in the reverse zones; nil for
// other names, including reverse names with no record (as CoreDNS's
// `fallthrough in-addr.arpa ip6.arpa` in the stock Corefile), which the
// server forwards.
func (c *Cluster) Answer(ctx context.Context, req *mdns.Msg, client netip.Addr) *mdns.Msg {
	m, _ := c.answer(ctx, req, client, false)
	return m
}

// AnswerQuick implements dns.QuickAnswerer: Answer, but ok is false when
// autopath would have to ask upstream for a name the forwarder has not
// cached.
func (c *Cluster) AnswerQuick(ctx context.Context, req *mdns.Msg, client netip.Addr) (*mdns.Msg, bool) {
	return c.answer(ctx, req, client, true)
}

func (c *Cluster) answer(ctx context.Context, req *mdns.Msg, client netip.Addr, quick bool) (*mdns.Msg, bool) {
	if len(req.Question) != 1 {
		return nil, true
	}
	name := strings.ToLower(mdns.Fqdn(req.Question[0].Name))
	if c.inZone(name) {
		return c.answerZone(ctx, req, name, client, quick)
	}
	if zone := reverseZone(name); zone != "" {
		return c.answerReverse(req, name, zone), true
	}
	return nil, true
}

// inZone says name (lowercase FQDN) is the cluster zone or below it.
func (c *Cluster) inZone(name string) bool {
	return name == c.zone || strings.HasSuffix(name, "."+c.zone)
}

// answerZone answers a name of the cluster zone, trying the pod's search
// path (autopath) when the name does not exist; with quick, ok is false
// when that would wait for an upstream.
func (c *Cluster) answerZone(ctx context.Context, req *mdns.Msg, name string, client netip.Addr, quick bool) (*mdns.Msg, bool) {
	if !c.Ready() {
		return servfail(req), true
	}
	q := req.Question[0]
	res := c.resolve(q.Name, q.Qtype, 0)
	if res.rcode == mdns.RcodeNameError && c.cfg.Autopath {
		m, ok := c.autopath(ctx, req, name, client, quick)
		if !ok || m != nil {
			return m, ok
		}
	}
	return c.reply(req, res, c.zone), true
}

// answerReverse answers a reverse name; nil when it is partial or its
// address is not a Service's or a ready endpoint's.
func (c *Cluster) answerReverse(req *mdns.Msg, name, zone string) *mdns.Msg {
	ip, ok := parseReverse(name)
	if !ok {
		return nil
	}
	if !c.Ready() {
		return servfail(req)
	}
	names := c.idx.ptrNames(ip, c.zone)
	if len(names) == 0 {
		return nil
	}
	q := req.Question[0]
	res := nodata()
	if q.Qtype == mdns.TypePTR {
		for _, n := range names {
			res.answer = append(res.answer, c.ptrRR(q.Name, n))
		}
	}
	return c.reply(req, res, zone)
}

// resolve resolves qname (as asked; owner of the answers) for type qtype.
// depth counts the CNAMEs followed to get here.
func (c *Cluster) resolve(qname string, qtype uint16, depth int) result {
	r := parseRequest(strings.ToLower(qname), c.zone)
	switch r.shape {
	case shapeApex:
		return c.resolveApex(qtype)
	case shapeVersion:
		return resolveVersion(qname, qtype)
	case shapeRoot:
		return nodata()
	case shapeNamespace:
		return c.resolveNamespace(r.namespace)
	case shapeService:
		return c.resolveService(qname, qtype, r, depth)
	case shapePodNamespace, shapePod:
		return c.resolvePod(qname, qtype, r)
	}
	return nxdomain()
}

// resolveApex answers the zone apex: its SOA, NODATA for other types.
func (c *Cluster) resolveApex(qtype uint16) result {
	if qtype != mdns.TypeSOA {
		return nodata()
	}
	return result{answer: []mdns.RR{c.soaRR(c.zone)}}
}

// resolveVersion answers dns-version.<zone>: TXT "1.1.0".
func resolveVersion(qname string, qtype uint16) result {
	if qtype != mdns.TypeTXT {
		return nodata()
	}
	return result{answer: []mdns.RR{versionRR(qname)}}
}

// resolveNamespace answers <ns>.svc.<zone>: NODATA if it exists.
func (c *Cluster) resolveNamespace(ns string) result {
	if c.idx.namespaceExists(ns) {
		return nodata()
	}
	return nxdomain()
}

// reply writes res as the authoritative answer to req; a negative answer
// carries the SOA of zone in Authority.
func (c *Cluster) reply(req *mdns.Msg, res result, zone string) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = true
	m.Rcode = res.rcode
	m.Answer = res.answer
	m.Extra = res.extra
	if len(res.answer) == 0 {
		m.Ns = []mdns.RR{c.soaRR(zone)}
	}
	return m
}

// servfail is the answer to a name of the zones before the index synced.
func servfail(req *mdns.Msg) *mdns.Msg {
	m := new(mdns.Msg)
	m.SetRcode(req, mdns.RcodeServerFailure)
	m.RecursionAvailable = true
	return m
}
