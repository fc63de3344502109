package storage

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// DefaultCompactionInterval is how often RunCompactor compacts by default,
// kube-apiserver's default too.
const DefaultCompactionInterval = 5 * time.Minute

// CompactorConfig configures RunCompactor.
type CompactorConfig struct {
	// Store is the store to compact. Required.
	Store Store
	// Interval spaces compactions; default DefaultCompactionInterval.
	Interval time.Duration
	// Logger receives the compactor's failures; nil discards them.
	Logger *slog.Logger
}

// RunCompactor compacts cfg.Store every interval to the revision it read at
// the previous tick, as kube-apiserver does, so that about one interval of
// history stays: enough for watchers to resume and for paged lists to
// finish. It returns when ctx ends. Several compactors on one store (API
// servers sharing an etcd) do no harm: compacting what another has already
// compacted is not an error.
func RunCompactor(ctx context.Context, cfg CompactorConfig) error {
	if cfg.Store == nil {
		return errors.New("compactor: no store")
	}
	interval := cfg.Interval
	if interval <= 0 {
		interval = DefaultCompactionInterval
	}
	c := &compactor{store: cfg.Store, logger: cfg.Logger}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			c.tick(ctx)
		}
	}
}

// compactor remembers the revision seen at the last tick and the revision
// compacted to.
type compactor struct {
	store     Store
	logger    *slog.Logger
	last      int64
	compacted int64
}

// tick compacts to the revision seen at the previous tick, then reads the
// revision to compact to at the next one.
func (c *compactor) tick(ctx context.Context) {
	if c.last > c.compacted {
		err := c.store.Compact(ctx, c.last)
		switch {
		case err == nil, errors.Is(err, ErrCompacted):
			c.logger.Debug("compacted storage", "revision", c.last)
			c.compacted = c.last
		default:
			c.logger.Warn("compact storage", "revision", c.last, "error", err)
		}
	}
	rev, err := c.store.Revision(ctx)
	if err != nil {
		c.logger.Warn("read storage revision for compaction", "error", err)
		return
	}
	c.last = rev
}
