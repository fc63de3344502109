package watchcache

import (
	"context"
	"errors"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/storage"
)

// ListOptions narrow a List from the cache.
type ListOptions struct {
	// Prefix narrows the keys (to a namespace); "" is the whole resource.
	Prefix string
	// Start is the first key of the page (a continued list); "" starts at
	// the prefix.
	Start string
	// Revision reads the objects as they were then (a continued list); 0
	// reads the cache's current state.
	Revision int64
	// Limit caps the items of the page; 0 returns all.
	Limit int64
	// Match keeps only the objects it returns true for; nil keeps all.
	Match func(runtime.Object) bool
}

// ListResult is one page of a list from the cache.
type ListResult struct {
	// Items are shared with the cache and every other reader: nobody may
	// modify them.
	Items    []runtime.Object
	Revision int64
	// Next is the key the next page starts at; "" on the last page.
	Next string
}

// ErrRevisionNotHeld: the cache cannot answer at that revision (it has
// already dropped the events after it, or not reached it yet).
var ErrRevisionNotHeld = errors.New("revision not held by the watch cache")

// ErrNotFresh: the cache did not reach the revision in time.
var ErrNotFresh = errors.New("watch cache did not reach the revision in time")

// List returns a page of the objects, as they are now or, with
// opts.Revision, as they were then.
func (c *Cacher) List(ctx context.Context, opts ListOptions) (ListResult, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return ListResult{}, ctx.Err()
	}
	prefix := c.cfg.Prefix
	if opts.Prefix != "" {
		prefix = opts.Prefix
	}
	start := prefix
	if opts.Start > start {
		start = opts.Start
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	res := ListResult{Revision: c.rev}
	var u undo
	if opts.Revision != 0 && opts.Revision != c.rev {
		if opts.Revision < c.oldest || opts.Revision > c.rev {
			return ListResult{}, ErrRevisionNotHeld
		}
		u, res.Revision = undoSince(c.ring, opts.Revision, prefix), opts.Revision
	}
	res.Items, res.Next = c.objs.page(prefix, start, u, opts)
	return res, nil
}

// page collects the objects under prefix from start, with the changes in
// u undone, until opts.Limit; next is where the following page starts.
func (o *objects) page(prefix, start string, u undo, opts ListOptions) (items []runtime.Object, next string) {
	i, keys, j := o.from(start), u.sortedKeys(start), 0
	for {
		cur := i < len(o.sorted) && strings.HasPrefix(o.sorted[i].key, prefix)
		if !cur && j == len(keys) {
			return items, ""
		}
		var key string
		var obj runtime.Object
		if j < len(keys) && (!cur || keys[j] <= o.sorted[i].key) {
			key, obj = keys[j], u[keys[j]]
			if cur && keys[j] == o.sorted[i].key {
				i++
			}
			j++
		} else {
			key, obj = o.sorted[i].key, o.sorted[i].obj
			i++
		}
		if obj == nil || (opts.Match != nil && !opts.Match(obj)) {
			continue
		}
		items = append(items, obj)
		if opts.Limit > 0 && int64(len(items)) >= opts.Limit {
			more := (i < len(o.sorted) && strings.HasPrefix(o.sorted[i].key, prefix)) || j < len(keys)
			if more {
				return items, key + "\x00"
			}
			return items, ""
		}
	}
}

// Holds says whether the cache can serve a watch from rev: it has reached
// rev and its ring holds every change since.
func (c *Cacher) Holds(rev int64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return rev >= c.oldest && rev <= c.rev
}

// freshTimeout is how long a read waits for the cache to reach a
// revision, as kube-apiserver's watch cache waits (3 s).
const freshTimeout = 3 * time.Second

// progressEvery spaces the progress requests sent while a read waits.
const progressEvery = 50 * time.Millisecond

// WaitFresh waits until the cache has seen every change up to rev,
// asking storage for a progress notice when the resource had no change
// of its own that far. It answers ErrNotFresh after freshTimeout.
func (c *Cacher) WaitFresh(ctx context.Context, rev int64) error {
	timeout := time.NewTimer(freshTimeout)
	defer timeout.Stop()
	var tick <-chan time.Time
	for asked := false; ; {
		c.mu.RLock()
		cur, advanced := c.rev, c.advanced
		c.mu.RUnlock()
		if cur >= rev {
			return nil
		}
		if !asked {
			c.requestProgress(ctx)
			t := time.NewTicker(progressEvery)
			defer t.Stop()
			tick, asked = t.C, true
		}
		select {
		case <-advanced:
		case <-tick:
			c.requestProgress(ctx)
		case <-timeout.C:
			return ErrNotFresh
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *Cacher) requestProgress(ctx context.Context) {
	if p, ok := c.cfg.Storage.(storage.ProgressRequester); ok {
		if err := p.RequestProgress(storage.WithWatchStream(ctx, c.cfg.Prefix)); err != nil {
			c.cfg.Logger.Debug("watch cache: request progress", "prefix", c.cfg.Prefix, "err", err)
		}
	}
}
