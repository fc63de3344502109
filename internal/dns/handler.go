package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Metric labels of responses the server makes itself.
const (
	zoneDropped = "dropped" // CoreDNS's zone label for queries refused before any plugin
	zoneRoot    = "."       // the zone of the kubeadm Corefile's only server block
	pluginNone  = ""
	pluginK8s   = "kubernetes"
	pluginFwd   = "forward"
)

// errPanicked is returned by callForwarder when the forwarder panicked;
// the panic is logged already.
var errPanicked = errors.New("forwarder panicked")

// query is what the server keeps of a request: the parts the reply must
// echo, snapshotted before the answerer or forwarder sees the request.
type query struct {
	req      *mdns.Msg
	id       uint16
	opcode   int
	question []mdns.Question
	client   netip.AddrPort // invalid when the writer has no address
	proto    string         // "udp" or "tcp"
	size     int            // request length in bytes
	edns     bool
	version  uint8
	do       bool
	bufsize  int  // the client's UDP buffer (512 without EDNS); 65535 over TCP
	quick    bool // answer only without waiting (cluster, forwarder's cache)
}

func newQuery(r *mdns.Msg, client netip.AddrPort, proto string) *query {
	q := &query{req: r, id: r.Id, opcode: r.Opcode, question: slices.Clone(r.Question), proto: proto, size: r.Len()}
	q.client = netip.AddrPortFrom(client.Addr().Unmap(), client.Port())
	q.bufsize = mdns.MinMsgSize
	if opt := r.IsEdns0(); opt != nil {
		q.edns, q.version, q.do = true, opt.Version(), opt.Do()
		q.bufsize = max(int(opt.UDPSize()), mdns.MinMsgSize)
	}
	if q.proto == "tcp" {
		q.bufsize = mdns.MaxMsgSize
	}
	return q
}

// remote returns the client's address and the protocol of w.
func remote(w mdns.ResponseWriter) (netip.AddrPort, string) {
	switch a := w.RemoteAddr().(type) {
	case *net.UDPAddr:
		return a.AddrPort(), "udp"
	case *net.TCPAddr:
		return a.AddrPort(), "tcp"
	}
	return netip.AddrPort{}, "udp"
}

// serve answers r through w and records the query's metrics and log line.
func (s *Server) serve(server string, w mdns.ResponseWriter, r *mdns.Msg) {
	client, proto := remote(w)
	wire, _ := s.handle(server, r, client, proto, nil, false)
	if wire == nil {
		return
	}
	if _, err := w.Write(wire); err != nil {
		s.log.Debug("write response", "client", client.String(), "err", err)
	}
}

// handle answers r, asked by client over proto, records the query's
// metrics and log line, and returns the packed reply, nil for none. The
// reply may be packed into buf. With quick set, a query that would wait
// for an upstream is left alone: done is false and nothing is recorded.
func (s *Server) handle(server string, r *mdns.Msg, client netip.AddrPort, proto string, buf []byte, quick bool) (wire []byte, done bool) {
	if r == nil || r.Response {
		return nil, true // never answer a response: it could start a loop
	}
	start := time.Now()
	q := newQuery(r, client, proto)
	q.quick = quick
	resp, zone, plugin := s.respond(q)
	if resp == nil {
		return nil, false
	}
	resp, wire, kept := s.packOrFail(q, resp, buf)
	if !kept {
		plugin = pluginNone
	}
	// Recorded before the write, so that a client that has its answer
	// finds it counted.
	took := time.Since(start)
	s.metrics.report(server, q, resp.Rcode, len(wire), zone, plugin, took)
	s.logQuery(q, resp, len(wire), took)
	return wire, true
}

// packOrFail packs resp for q. When that fails it packs SERVFAIL
// instead, and when even the request's question does not pack, FORMERR
// without a question; kept says whether resp itself was packed.
func (s *Server) packOrFail(q *query, resp *mdns.Msg, buf []byte) (_ *mdns.Msg, wire []byte, kept bool) {
	wire, err := pack(q, resp, buf)
	if err == nil {
		return resp, wire, true
	}
	s.logError(q, "pack response", err)
	resp = reply(q, mdns.RcodeServerFailure)
	if wire, err = pack(q, resp, buf); err == nil {
		return resp, wire, false
	}
	q.question = nil
	resp = reply(q, mdns.RcodeFormatError)
	wire, _ = pack(q, resp, buf) // a header and an OPT record always pack
	return resp, wire, false
}

// respond returns the response to q, the zone label and the name of the
// CoreDNS plugin that would have made it; nil for a quick query that
// would wait for an upstream.
func (s *Server) respond(q *query) (*mdns.Msg, string, string) {
	if m := check(q); m != nil {
		return m, zoneDropped, pluginNone
	}
	if t := q.question[0].Qtype; t == mdns.TypeAXFR || t == mdns.TypeIXFR {
		return reply(q, mdns.RcodeRefused), zoneRoot, pluginNone
	}
	if s.cluster != nil {
		m, ok := s.answer(q)
		if !ok {
			return nil, "", ""
		}
		if m != nil {
			if !s.chase(q, m) {
				return nil, "", ""
			}
			return m, zoneRoot, pluginK8s
		}
	}
	return s.forward(q)
}

// maxChase is the longest CNAME chain an answer carries (CoreDNS's
// limit of 8 records).
const maxChase = 8

// chase completes a cluster answer to A or AAAA that ends in a CNAME (an
// ExternalName Service) by asking the server itself for the target and
// adding its records, as CoreDNS's kubernetes plugin does through its
// upstream: stub resolvers follow no CNAME, so a pod connecting to an
// ExternalName Service needs the target's addresses in the same answer.
// A target nobody answers leaves the CNAME alone. ok is false for a
// quick query whose target would wait for an upstream.
func (s *Server) chase(q *query, m *mdns.Msg) (ok bool) {
	qt := q.question[0].Qtype
	if (qt != mdns.TypeA && qt != mdns.TypeAAAA) || m.Rcode != mdns.RcodeSuccess {
		return true
	}
	for len(m.Answer) > 0 && len(m.Answer) < maxChase {
		cname, isCNAME := m.Answer[len(m.Answer)-1].(*mdns.CNAME)
		if !isCNAME || hasType(m.Answer, qt) || hasName(m.Answer, cname.Target) {
			return true
		}
		req := new(mdns.Msg)
		req.SetQuestion(cname.Target, qt)
		sub := newQuery(req, q.client, q.proto)
		sub.quick = q.quick
		r, _, _ := s.respondOnce(sub)
		if r == nil {
			return false
		}
		if r.Rcode != mdns.RcodeSuccess || len(r.Answer) == 0 {
			return true
		}
		for _, rr := range r.Answer {
			m.Answer = append(m.Answer, mdns.Copy(rr))
		}
	}
	return true
}

// respondOnce answers a chased target: from the cluster without chasing
// further (chase's loop does), else upstream.
func (s *Server) respondOnce(q *query) (*mdns.Msg, string, string) {
	if s.cluster != nil {
		m, ok := s.answer(q)
		if !ok {
			return nil, "", ""
		}
		if m != nil {
			return m, zoneRoot, pluginK8s
		}
	}
	return s.forward(q)
}

func hasType(rrs []mdns.RR, t uint16) bool {
	for _, rr := range rrs {
		if rr.Header().Rrtype == t {
			return true
		}
	}
	return false
}

func hasName(rrs []mdns.RR, name string) bool {
	for _, rr := range rrs {
		if strings.EqualFold(rr.Header().Name, name) {
			return true
		}
	}
	return false
}

// check rejects what the server refuses before looking at the name, in
// CoreDNS's order: opcode, question count, EDNS version, class.
func check(q *query) *mdns.Msg {
	switch {
	case q.opcode != mdns.OpcodeQuery:
		return reply(q, mdns.RcodeNotImplemented)
	case len(q.question) != 1:
		return reply(q, mdns.RcodeFormatError)
	case q.edns && q.version != 0:
		return reply(q, mdns.RcodeBadVers)
	case q.question[0].Qclass != mdns.ClassINET:
		return reply(q, mdns.RcodeRefused)
	}
	return nil
}

// answer asks the cluster answerer, turning a panic into SERVFAIL; ok is
// false for a quick query whose answer would wait.
func (s *Server) answer(q *query) (m *mdns.Msg, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			s.metrics.panics.Inc()
			s.logError(q, "answerer panicked", fmt.Errorf("%v", v), "stack", string(debug.Stack()))
			m, ok = reply(q, mdns.RcodeServerFailure), true
		}
	}()
	if qa, isQuick := s.cluster.(QuickAnswerer); q.quick && isQuick {
		return qa.AnswerQuick(s.ctx, q.req, q.client.Addr())
	}
	return s.cluster.Answer(s.ctx, q.req, q.client.Addr()), true
}

// forward sends q upstream if the client may recurse.
func (s *Server) forward(q *query) (*mdns.Msg, string, string) {
	if !s.recursionAllowed(q.client.Addr()) {
		return reply(q, mdns.RcodeRefused), zoneRoot, pluginNone
	}
	if s.forwarder == nil {
		return reply(q, mdns.RcodeServerFailure), zoneRoot, pluginNone
	}
	if q.quick {
		if m := s.cached(q); m != nil {
			return m, zoneRoot, pluginFwd
		}
		return nil, "", ""
	}
	m, err := s.callForwarder(q)
	if err == nil && m == nil {
		err = fmt.Errorf("no answer")
	}
	if err != nil {
		if !errors.Is(err, errPanicked) {
			s.logError(q, "forward", err)
		}
		return reply(q, mdns.RcodeServerFailure), zoneRoot, pluginNone
	}
	return m, zoneRoot, pluginFwd
}

func (s *Server) callForwarder(q *query) (m *mdns.Msg, err error) {
	defer func() {
		if v := recover(); v != nil {
			s.metrics.panics.Inc()
			s.logError(q, "forwarder panicked", fmt.Errorf("%v", v), "stack", string(debug.Stack()))
			m, err = nil, errPanicked
		}
	}()
	return s.forwarder.Forward(s.ctx, q.req)
}

// cached asks the forwarder's memory; nil when it has no answer (or
// panicked, which Forward will meet again).
func (s *Server) cached(q *query) (m *mdns.Msg) {
	cf, ok := s.forwarder.(CachedForwarder)
	if !ok {
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			m = nil
		}
	}()
	return cf.Cached(q.req)
}

func (s *Server) recursionAllowed(client netip.Addr) bool {
	if len(s.recursionFrom) == 0 {
		return true
	}
	for _, p := range s.recursionFrom {
		if p.Contains(client) {
			return true
		}
	}
	return false
}

// logError logs err with the query it happened to.
func (s *Server) logError(q *query, msg string, err error, more ...any) {
	attrs := []any{"client", q.client.String(), "id", q.id, "err", err}
	if len(q.question) > 0 {
		attrs = append(attrs, "name", q.question[0].Name, "type", mdns.Type(q.question[0].Qtype).String())
	}
	attrs = append(attrs, more...)
	s.log.ErrorContext(context.Background(), msg, attrs...)
}
