package cache

import (
	"time"

	"github.com/miekg/dns"
)

// kind says which of the two caches an entry belongs to.
type kind int

const (
	success kind = iota // answers, empty NOERROR without SOA, referrals
	denial              // NXDOMAIN, NODATA, SERVFAIL, NOTIMP
)

// entry is a cached response: its sections without the OPT record, which
// is hop-by-hop, and when it was stored for how long.
type entry struct {
	rcode    int
	authData bool
	recAvail bool
	answer   []dns.RR
	ns       []dns.RR
	extra    []dns.RR
	stored   time.Time
	ttl      int64 // seconds
}

func newEntry(m *dns.Msg, now time.Time, ttl time.Duration) *entry {
	return &entry{
		rcode:    m.Rcode,
		authData: m.AuthenticatedData,
		recAvail: m.RecursionAvailable,
		answer:   copyRRs(m.Answer, 0, false),
		ns:       copyRRs(m.Ns, 0, false),
		extra:    copyRRs(m.Extra, 0, false),
		stored:   now,
		ttl:      int64(ttl / time.Second),
	}
}

// remaining is the entry's TTL at now, in whole seconds; 0 or less means
// expired.
func (e *entry) remaining(now time.Time) int64 {
	return e.ttl - int64(now.Sub(e.stored)/time.Second)
}

// reply builds the answer to req from e at now. Like CoreDNS it sets the
// AA bit (some old glibc stub resolvers drop non-authoritative answers)
// and keeps AD only when the client asked for DNSSEC or set AD itself.
func (e *entry) reply(req *dns.Msg, now time.Time) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	m.RecursionAvailable = e.recAvail
	do := false
	if opt := req.IsEdns0(); opt != nil {
		do = opt.Do()
	}
	m.AuthenticatedData = e.authData && (do || req.AuthenticatedData)
	m.Rcode = e.rcode
	ttl := uint32(max(e.remaining(now), 0))
	m.Answer = copyRRs(e.answer, ttl, true)
	m.Ns = copyRRs(e.ns, ttl, true)
	m.Extra = copyRRs(e.extra, ttl, true)
	return m
}

// copyRRs deep-copies rrs without OPT records, setting every TTL to ttl
// when setTTL is true.
func copyRRs(rrs []dns.RR, ttl uint32, setTTL bool) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		if rr == nil || rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		c := dns.Copy(rr)
		if setTTL {
			c.Header().Ttl = ttl
		}
		out = append(out, c)
	}
	return out
}

// setTTLs sets the TTL of every record of m but OPT to ttl.
func setTTLs(m *dns.Msg, ttl time.Duration) {
	secs := uint32(ttl / time.Second)
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			if rr != nil && rr.Header().Rrtype != dns.TypeOPT {
				rr.Header().Ttl = secs
			}
		}
	}
}

// classify says whether m can be cached, in which cache and for how long.
// Truncated answers, zone transfers, other opcodes, NXDOMAIN without an
// SOA (no negative TTL, RFC 2308 §5) and errors other than SERVFAIL and
// NOTIMP are not cached.
func (c *Cache) classify(m *dns.Msg) (kind, time.Duration, bool) {
	if m.Truncated || m.Opcode != dns.OpcodeQuery || len(m.Question) != 1 {
		return 0, 0, false
	}
	if t := m.Question[0].Qtype; t == dns.TypeAXFR || t == dns.TypeIXFR {
		return 0, 0, false
	}
	switch m.Rcode {
	case dns.RcodeSuccess:
		if len(m.Answer) == 0 && hasSOA(m.Ns) {
			return denial, c.clamp(minTTL(m), c.cfg.DenialTTL), true
		}
		return success, c.clamp(minTTL(m), c.cfg.SuccessTTL), true
	case dns.RcodeNameError:
		if len(m.Answer) > 0 || !hasSOA(m.Ns) {
			return 0, 0, false
		}
		return denial, c.clamp(minTTL(m), c.cfg.DenialTTL), true
	case dns.RcodeServerFailure, dns.RcodeNotImplemented:
		if c.cfg.ServerFailureTTL < 0 {
			return 0, 0, false
		}
		return denial, c.cfg.ServerFailureTTL, true
	}
	return 0, 0, false
}

// clamp bounds ttl to [MinTTL, maxTTL]; a negative ttl (no records) gives
// MinTTL.
func (c *Cache) clamp(ttl, maxTTL time.Duration) time.Duration {
	return min(max(ttl, c.cfg.MinTTL), maxTTL)
}

// minTTL returns the lowest TTL of m's records, counting an SOA's minimum
// field as RFC 2308 §5 asks for negative answers, or -1 when m has no
// records.
func minTTL(m *dns.Msg) time.Duration {
	lowest := int64(-1)
	note := func(ttl uint32) {
		if lowest < 0 || int64(ttl) < lowest {
			lowest = int64(ttl)
		}
	}
	for _, rrs := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range rrs {
			if rr == nil || rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			note(rr.Header().Ttl)
			if soa, ok := rr.(*dns.SOA); ok {
				note(soa.Minttl)
			}
		}
	}
	if lowest < 0 {
		return -1
	}
	return time.Duration(lowest) * time.Second
}

func hasSOA(rrs []dns.RR) bool {
	for _, rr := range rrs {
		if rr != nil && rr.Header().Rrtype == dns.TypeSOA {
			return true
		}
	}
	return false
}
