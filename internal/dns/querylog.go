package dns

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	mdns "github.com/miekg/dns"
)

// logQuery logs q at debug level in the format of CoreDNS's log plugin:
//
//	{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}
func (s *Server) logQuery(q *query, resp *mdns.Msg, rsize int, took time.Duration) {
	ctx := context.Background()
	if !s.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, string(appendQueryLine(nil, q, resp, rsize, took)))
}

func appendQueryLine(b []byte, q *query, resp *mdns.Msg, rsize int, took time.Duration) []byte {
	b = appendRemote(b, q)
	b = append(b, " - "...)
	b = strconv.AppendUint(b, uint64(q.id), 10)
	b = append(b, " \""...)
	if len(q.question) > 0 {
		qq := q.question[0]
		b = append(b, mdns.Type(qq.Qtype).String()...)
		b = append(b, ' ')
		b = append(b, mdns.Class(qq.Qclass).String()...)
		b = append(b, ' ')
		b = append(b, qq.Name...)
	} else {
		b = append(b, "- - -"...)
	}
	b = append(b, ' ')
	b = append(b, q.proto...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(q.size), 10)
	b = append(b, ' ')
	b = strconv.AppendBool(b, q.do)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(q.bufsize), 10)
	b = append(b, "\" "...)
	b = append(b, rcodeString(resp.Rcode)...)
	b = append(b, ' ')
	b = appendFlags(b, resp)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(rsize), 10)
	b = append(b, ' ')
	b = strconv.AppendFloat(b, took.Seconds(), 'f', -1, 64)
	return append(b, 's')
}

// appendRemote appends ip:port, with brackets around an IPv6 address,
// or "-" without a client address.
func appendRemote(b []byte, q *query) []byte {
	if !q.client.IsValid() {
		return append(b, '-')
	}
	if q.client.Addr().Is6() {
		b = append(b, '[')
		b = q.client.Addr().AppendTo(b)
		b = append(b, ']')
	} else {
		b = q.client.Addr().AppendTo(b)
	}
	b = append(b, ':')
	return strconv.AppendUint(b, uint64(q.client.Port()), 10)
}

// appendFlags appends the set header flags of m, comma separated, as
// CoreDNS's {>rflags}.
func appendFlags(b []byte, m *mdns.Msg) []byte {
	start := len(b)
	for _, f := range []struct {
		set  bool
		name string
	}{
		{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"}, {m.RecursionDesired, "rd"},
		{m.RecursionAvailable, "ra"}, {m.Zero, "z"}, {m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"},
	} {
		if f.set {
			b = append(b, f.name...)
			b = append(b, ',')
		}
	}
	if len(b) > start {
		return b[:len(b)-1]
	}
	return b
}

func rcodeString(rcode int) string {
	if s, ok := mdns.RcodeToString[rcode]; ok {
		return s
	}
	return "RCODE" + strconv.Itoa(rcode)
}
