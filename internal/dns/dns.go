// Package dns is svcplane's cluster DNS server: it answers the cluster
// domain from the API (package cluster, through an Answerer), forwards
// every other name upstream (package forward, through a Forwarder, with a
// cache), and serves both over UDP (a loop of its own, udp.go) and TCP
// (miekg/dns), with CoreDNS's metrics, /health and /ready. See README.md.
package dns

import (
	"context"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// Answerer answers the names it is authoritative for (the cluster domain
// and the reverse zones).
type Answerer interface {
	// Answer returns the response to req, a query with exactly one
	// question, asked by client; nil when the name is outside the
	// answerer's zones (the server then forwards it). Before Ready it
	// answers SERVFAIL for its own names.
	Answer(ctx context.Context, req *mdns.Msg, client netip.Addr) *mdns.Msg
	// Ready says the answerer's caches have synced.
	Ready() bool
}

// Forwarder resolves names outside the cluster through upstream servers.
type Forwarder interface {
	// Forward sends req upstream (through the cache) and returns the
	// upstream's answer, with req's ID.
	Forward(ctx context.Context, req *mdns.Msg) (*mdns.Msg, error)
}

// CachedForwarder is a Forwarder that can also answer from memory at
// once. With one, the UDP loop reads queries in batches: it answers
// those it can without waiting in the batch, and hands the others to
// goroutines of their own.
type CachedForwarder interface {
	Forwarder
	// Cached returns the answer to req from memory, with req's ID, or nil
	// (then Forward is asked); it never waits.
	Cached(req *mdns.Msg) *mdns.Msg
}

// QuickAnswerer is an Answerer that can also answer without waiting, or
// say it would wait. With one (or no answerer) and a CachedForwarder (or
// no forwarder), the UDP loop reads queries in batches.
type QuickAnswerer interface {
	Answerer
	// AnswerQuick is Answer when that needs no waiting; ok is false when
	// it would wait (e.g. autopath asking upstream), and Answer is then
	// asked where waiting is fine.
	AnswerQuick(ctx context.Context, req *mdns.Msg, client netip.Addr) (m *mdns.Msg, ok bool)
}
