package claim

import (
	"context"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

// sweeper finds claims no Service holds (leaked: a write reserved a value
// and its server died before storing or reverting it, or a release
// failed) and values Services hold without a claim. It acts on one only
// once it has seen it so in sweeps at least Grace apart: a claim may
// belong to a Service another server is storing right now.
type sweeper struct {
	c       *Claims
	orphans map[string]seen // claim key -> first seen unheld
	missing map[string]seen // claim key -> first seen unclaimed
}

// seen is when a sweep first saw a key in its state, and the claim's
// revision then (0 for a missing claim).
type seen struct {
	since time.Time
	rev   int64
}

func (c *Claims) sweepEvery(ctx context.Context, list ListServices) {
	s := &sweeper{c: c, orphans: map[string]seen{}, missing: map[string]seen{}}
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.sweep(ctx, list); err != nil && ctx.Err() == nil {
				c.cfg.Logger.Warn("sweep service allocation claims", "error", err)
			}
		}
	}
}

// sweep reads the claims, then the Services (in this order, so that a
// Service stored in between is seen), and acts on what has been wrong for
// at least Grace.
func (s *sweeper) sweep(ctx context.Context, list ListServices) error {
	claimed, _, err := s.c.io.list(ctx)
	if err != nil {
		return err
	}
	services, err := list(ctx)
	if err != nil {
		return err
	}
	held := heldKeys(services)
	now := s.c.cfg.Now()
	s.releaseOrphans(ctx, claimed, held, now)
	s.claimMissing(ctx, claimed, held, now)
	return nil
}

func (s *sweeper) releaseOrphans(ctx context.Context, claimed map[string]storage.KV, held map[string]string, now time.Time) {
	next := map[string]seen{}
	for key, kv := range claimed {
		if _, ok := held[key]; ok {
			continue
		}
		if !s.due(s.orphans, next, key, kv.ModRevision, now) {
			continue
		}
		gone, err := s.c.io.remove(ctx, key, kv.ModRevision)
		if err != nil {
			s.c.cfg.Logger.Warn("release a leaked service allocation claim", "key", key, "error", err)
			next[key] = s.orphans[key]
			continue
		}
		if gone {
			s.c.unmark(key)
			s.c.cfg.Logger.Info("released a service allocation claim no service holds", "key", key, "claim", string(kv.Value))
		}
	}
	s.orphans = next
}

func (s *sweeper) claimMissing(ctx context.Context, claimed map[string]storage.KV, held map[string]string, now time.Time) {
	next := map[string]seen{}
	for key, holder := range held {
		if _, ok := claimed[key]; ok {
			continue
		}
		if !s.due(s.missing, next, key, 0, now) {
			continue
		}
		if err := s.c.claimHeld(ctx, key, holder); err != nil {
			s.c.cfg.Logger.Warn("claim a value a service holds", "key", key, "holder", holder, "error", err)
			next[key] = s.missing[key]
		}
	}
	s.missing = next
}

// due reports whether key, in the same state (rev) since a previous sweep
// at least Grace ago, is to be acted on; if not, it records key in next.
func (s *sweeper) due(prev, next map[string]seen, key string, rev int64, now time.Time) bool {
	p, ok := prev[key]
	if ok && p.rev == rev && now.Sub(p.since) >= s.c.cfg.Grace {
		return true
	}
	if !ok || p.rev != rev {
		p = seen{since: now, rev: rev}
	}
	next[key] = p
	return false
}
