package cluster

// autopath.go: server-side search path completion, as CoreDNS's autopath
// with `autopath @kubernetes`. A pod with ClusterFirst resolves a short
// name by trying <name>.<podns>.svc.<zone>, <name>.svc.<zone>,
// <name>.<zone> and then <name>. in turn. When the first of these is
// asked from a known pod's IP and does not exist, the server walks the
// rest itself and answers the first that is not NXDOMAIN, under a CNAME
// from the asked name, saving the client its round trips.

import (
	"context"
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"

	"github.com/svcplane/svcplane/internal/dns"
)

// autopath answers req by the rest of the search path of the pod at
// client; nil when req is not the first search element of a known pod,
// or when every other element is NXDOMAIN too. With quick, ok is false
// when an element would have to be asked upstream (not cached).
func (c *Cluster) autopath(ctx context.Context, req *mdns.Msg, name string, client netip.Addr, quick bool) (*mdns.Msg, bool) {
	base, ok := c.searchBase(req.Question[0].Name, name, client)
	if !ok {
		return nil, true
	}
	for _, next := range []string{base + ".svc." + c.zone, base + "." + c.zone, base + "."} {
		m, ok := c.lookup(ctx, req, next, quick)
		if !ok {
			return nil, false
		}
		if m != nil && m.Rcode == mdns.RcodeSuccess {
			return c.cnamed(req, m), true
		}
	}
	return nil, true
}

// searchBase returns the name the pod at client asked for, when qname is
// <base>.<podns>.svc.<zone>; name is qname lowercased. The base keeps the
// case of the question.
func (c *Cluster) searchBase(qname, name string, client netip.Addr) (string, bool) {
	ns, ok := c.idx.podNamespace(client.Unmap())
	if !ok {
		return "", false
	}
	suffix := "." + ns + ".svc." + c.zone
	if !strings.HasSuffix(name, suffix) || len(name) == len(suffix) {
		return "", false
	}
	if len(qname) != len(name) {
		qname = name
	}
	return qname[:len(qname)-len(suffix)], true
}

// lookup resolves req's question asked for name: in the cluster zone from
// the index, elsewhere through the Forwarder (nil without one, or on
// error). With quick, only from the Forwarder's cache: ok is false when
// it has no answer.
func (c *Cluster) lookup(ctx context.Context, req *mdns.Msg, name string, quick bool) (*mdns.Msg, bool) {
	r := req.Copy()
	r.Question[0].Name = name
	qtype := r.Question[0].Qtype
	if c.inZone(strings.ToLower(name)) {
		return c.reply(r, c.resolve(name, qtype, 0), c.zone), true
	}
	if c.cfg.Forwarder == nil {
		return nil, true
	}
	if quick {
		cf, ok := c.cfg.Forwarder.(dns.CachedForwarder)
		if !ok {
			return nil, false
		}
		m := cf.Cached(r)
		return m, m != nil
	}
	m, err := c.cfg.Forwarder.Forward(ctx, r)
	if err != nil {
		c.log.Debug("autopath forward failed", "name", name, "type", mdns.TypeToString[qtype], "err", err)
		return nil, true
	}
	return m, true
}

// cnamed turns m, the answer for another name, into the answer to req: the
// question of req, and a CNAME from req's name to the owner of m's first
// answer record (as CoreDNS's autopath). The reply is authoritative, as
// the asked name is in the zone, even when m came from upstream. EDNS
// records are left to the server.
func (c *Cluster) cnamed(req, m *mdns.Msg) *mdns.Msg {
	out := new(mdns.Msg)
	out.SetReply(req)
	out.Authoritative = true
	out.RecursionAvailable = true
	out.Rcode = m.Rcode
	out.Ns = m.Ns
	qname := req.Question[0].Name
	if len(m.Answer) > 0 && !strings.EqualFold(m.Answer[0].Header().Name, qname) {
		first := m.Answer[0].Header()
		cname := &mdns.CNAME{
			Hdr:    mdns.RR_Header{Name: qname, Rrtype: mdns.TypeCNAME, Class: mdns.ClassINET, Ttl: first.Ttl},
			Target: first.Name,
		}
		out.Answer = append(out.Answer, cname)
	}
	out.Answer = append(out.Answer, m.Answer...)
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != mdns.TypeOPT {
			out.Extra = append(out.Extra, rr)
		}
	}
	return out
}
