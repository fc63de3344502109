package forward

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// errWrongAnswer is returned when an upstream answers another question.
var errWrongAnswer = errors.New("answer does not match the question")

// exchange sends req to the upstreams of group, healthy ones first, until
// one answers. The upstream sees an ID of our own; the answer gets req's.
func (f *Forwarder) exchange(ctx context.Context, group []*upstream, req *dns.Msg) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, queryBudget)
	defer cancel()
	q := *req // a shallow copy: only the header changes
	q.Id = dns.Id()
	var lastErr error
	for _, u := range f.order(group) {
		resp, err := f.try(ctx, u, &q)
		if err == nil {
			resp.Id = req.Id
			return resp, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

// order returns the upstreams of group in the order to try them: by
// policy, with the ones that are down moved to the end.
func (f *Forwarder) order(group []*upstream) []*upstream {
	list := make([]*upstream, len(group))
	copy(list, group)
	if f.policy == PolicyRandom {
		rand.Shuffle(len(list), func(i, j int) { list[i], list[j] = list[j], list[i] })
	}
	healthy := make([]*upstream, 0, len(list))
	var down []*upstream
	for _, u := range list {
		if u.down() {
			down = append(down, u)
		} else {
			healthy = append(healthy, u)
		}
	}
	if len(healthy) == 0 {
		f.metrics.broken.Inc()
	}
	return append(healthy, down...)
}

// try asks one upstream over UDP, and again over TCP if the answer is
// truncated. A failure marks the upstream down unless ctx ended.
func (f *Forwarder) try(ctx context.Context, u *upstream, q *dns.Msg) (*dns.Msg, error) {
	start := time.Now()
	resp, _, err := f.udp.ExchangeContext(ctx, q, u.addr)
	if err == nil && resp.Truncated {
		resp, _, err = f.tcp.ExchangeContext(ctx, q, u.addr)
	}
	if err == nil && !sameQuestion(q, resp) {
		err = errWrongAnswer
	}
	if err != nil {
		if ctx.Err() == nil {
			f.markDown(u, err)
		}
		return nil, fmt.Errorf("upstream %s: %w", u.addr, err)
	}
	f.markUp(u)
	f.metrics.observe(u.addr, resp.Rcode, time.Since(start))
	return resp, nil
}

func sameQuestion(q, resp *dns.Msg) bool {
	if len(resp.Question) != 1 {
		return false
	}
	a, b := q.Question[0], resp.Question[0]
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && strings.EqualFold(a.Name, b.Name)
}
