package dns

import (
	"fmt"

	mdns "github.com/miekg/dns"
)

// advertisedUDPSize is the EDNS0 buffer size in the server's responses,
// the DNS Flag Day 2020 value.
const advertisedUDPSize = 1232

// reply returns an empty response to q with rcode.
func reply(q *query, rcode int) *mdns.Msg {
	m := new(mdns.Msg)
	m.Response = true
	m.Rcode = rcode
	if q.opcode == mdns.OpcodeQuery {
		m.RecursionDesired = q.req.RecursionDesired
		m.CheckingDisabled = q.req.CheckingDisabled
	}
	return m
}

// pack finishes resp for q and packs it: the request's ID, opcode and
// question, an OPT record if the request had one, truncation to the
// client's buffer (compressed when that keeps records), compression of a
// UDP reply above the fragmentation limit; into buf when it is big enough.
// resp itself is left unchanged, so an answerer may hand out a shared
// message.
func pack(q *query, resp *mdns.Msg, buf []byte) (wire []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			wire, err = nil, fmt.Errorf("pack panicked: %v", v)
		}
	}()
	m := *resp
	m.Id, m.Response, m.Opcode = q.id, true, q.opcode
	m.Question = nil
	if len(q.question) == 1 {
		m.Question = q.question
	}
	setEDNS(q, &m)
	m.Truncate(q.bufsize) // compresses when that avoids dropping records
	m.Compress = m.Compress || needsCompression(q, &m)
	return m.PackBuffer(buf)
}

// Sizes above which a UDP reply is compressed even when it fits the
// client's buffer, to avoid IP fragmentation (CoreDNS's, from NSD).
const (
	fragmentSize4 = 1480
	fragmentSize6 = 1220
)

// needsCompression says an untruncated reply m to q is compressed, as
// CoreDNS's request.Scrub decides: over UDP when it is bigger than the
// IPv4 or IPv6 fragmentation limit. Compressing every reply would cost a
// map per query.
func needsCompression(q *query, m *mdns.Msg) bool {
	if q.proto != "udp" {
		return false
	}
	limit := fragmentSize4
	if q.client.Addr().Is6() {
		limit = fragmentSize6
	}
	return q.bufsize > limit && m.Len() > limit // within the buffer, so within the limit
}

// setEDNS gives m an OPT record of its own when the request had one, with
// the server's buffer size and the request's DO bit, and none otherwise.
func setEDNS(q *query, m *mdns.Msg) {
	if !q.edns {
		if m.IsEdns0() != nil {
			m.Extra = withoutOPT(m.Extra, 0)
		}
		if m.Rcode > 0xF { // an extended rcode needs an OPT record
			m.Rcode = mdns.RcodeServerFailure
		}
		return
	}
	opt := &mdns.OPT{Hdr: mdns.RR_Header{Name: ".", Rrtype: mdns.TypeOPT}}
	opt.SetUDPSize(advertisedUDPSize)
	if q.do {
		opt.SetDo()
	}
	m.Extra = append(withoutOPT(m.Extra, 1), opt)
}

// withoutOPT returns a new slice of the records of rrs but OPT ones, with
// room for spare more.
func withoutOPT(rrs []mdns.RR, spare int) []mdns.RR {
	out := make([]mdns.RR, 0, len(rrs)+spare)
	for _, rr := range rrs {
		if rr != nil && rr.Header().Rrtype != mdns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}
