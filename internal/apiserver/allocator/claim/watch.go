package claim

import (
	"context"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

// watchRetry spaces the attempts to list and watch again after a watch
// ended or a list failed.
const watchRetry = time.Second

// watch follows the claims from the revision Start read them at, marking
// and unmarking locally what other servers claim and release. When the
// watch ends (compaction, a lost connection) it lists the claims again,
// makes the local allocators match and watches from there.
func (c *Claims) watch(ctx context.Context) {
	rev := c.rev
	for ctx.Err() == nil {
		rev = c.follow(ctx, rev)
		rev = c.relist(ctx)
	}
}

// relist resyncs until it succeeds, and returns the revision of the list;
// 0 if ctx ended first.
func (c *Claims) relist(ctx context.Context) int64 {
	for sleep(ctx, watchRetry) {
		rev, err := c.resync(ctx)
		if err == nil {
			return rev
		}
		c.cfg.Logger.Warn("list service allocation claims", "error", err)
	}
	return 0
}

// follow applies the watch's events until it ends, and returns the last
// revision seen.
func (c *Claims) follow(ctx context.Context, rev int64) int64 {
	for resp := range c.cfg.Store.Watch(ctx, Prefix, rev) {
		if resp.Err != nil {
			if ctx.Err() == nil {
				c.cfg.Logger.Warn("watch service allocation claims", "error", resp.Err)
			}
			return rev
		}
		for _, ev := range resp.Events {
			c.apply(ev)
		}
		rev = max(rev, resp.Revision)
	}
	return rev
}

func (c *Claims) apply(ev storage.Event) {
	if ev.Type == storage.EventDelete {
		c.unmark(ev.KV.Key)
		return
	}
	c.mark(ev.KV.Key)
}

// resync lists the claims and makes every local allocator match them; it
// returns the revision of the list.
func (c *Claims) resync(ctx context.Context) (int64, error) {
	claimed, rev, err := c.io.list(ctx)
	if err != nil {
		return 0, err
	}
	keys := make(map[string]bool, len(claimed))
	for key := range claimed {
		keys[key] = true
	}
	for _, s := range c.spaces {
		s.resync(keys)
	}
	return rev, nil
}

// sleep waits d; false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
