package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// agreement is how many of the distinct queries of a file two servers
// answered alike (same rcode, same answer records, TTLs aside), with the
// first differences.
type agreement struct {
	same, total int
	diffs       []string
}

// compareAnswers asks a and b each distinct query of msgs (at most limit)
// once, over UDP, as dnsperf asks them.
func compareAnswers(a, b target, msgs []*mdns.Msg, limit int) agreement {
	var res agreement
	seen := map[string]bool{}
	c := &mdns.Client{Timeout: 2 * time.Second}
	for _, m := range msgs {
		key := m.Question[0].String()
		if seen[key] || len(seen) >= limit {
			continue
		}
		seen[key] = true
		res.total++
		ra, rb := summary(c, m, a.addr), summary(c, m, b.addr)
		if ra == rb {
			res.same++
		} else if len(res.diffs) < 5 {
			res.diffs = append(res.diffs, fmt.Sprintf("%s\n  %s: %s\n  %s: %s", key, a.name, ra, b.name, rb))
		}
	}
	return res
}

// summary is the rcode, TC bit and sorted answer records of addr's
// answer to m, TTLs set to 0.
func summary(c *mdns.Client, m *mdns.Msg, addr string) string {
	r, _, err := c.Exchange(m.Copy(), addr)
	if err != nil {
		return "error: " + err.Error()
	}
	var rrs []string
	for _, rr := range r.Answer {
		rr.Header().Ttl = 0
		rrs = append(rrs, rr.String())
	}
	slices.Sort(rrs)
	return fmt.Sprintf("%s tc=%v [%s]", mdns.RcodeToString[r.Rcode], r.Truncated, strings.Join(rrs, "; "))
}
