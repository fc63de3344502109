// Package watchcache fans one storage watch per resource out to all the
// API server's watch clients. It keeps a ring of recent events so a client
// can resume from a recent resourceVersion without touching storage; an
// older resourceVersion falls back to a watch of its own on storage, which
// answers "too old" (410 Gone) once that revision is compacted.
package watchcache

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/storage"
)

// Config describes one resource's cache.
type Config struct {
	Storage storage.Store
	// Prefix is the resource's key prefix, ending with a slash.
	Prefix string
	// Decode turns a stored value into an object with rev as its
	// resourceVersion.
	Decode func(data []byte, rev int64) (runtime.Object, error)
	// Capacity is how many recent events are kept (default 4096).
	Capacity int
	// BookmarkInterval spaces the bookmarks sent to watchers that asked
	// for them (default 10s).
	BookmarkInterval time.Duration
	Logger           *slog.Logger
}

// Cacher is the watch cache of one resource.
type Cacher struct {
	cfg   Config
	ready chan struct{}

	mu sync.Mutex
	// ring holds recent events in revision order; it covers every event
	// after revision oldest.
	ring     []*Event
	oldest   int64
	rev      int64
	watchers map[*Watcher]struct{}
}

// ErrTooOld is sent when a watcher falls too far behind.
var ErrTooOld = errors.New("watch fell too far behind")

// New returns a cacher; Run starts it.
func New(cfg Config) *Cacher {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 4096
	}
	if cfg.BookmarkInterval <= 0 {
		cfg.BookmarkInterval = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Cacher{cfg: cfg, ready: make(chan struct{}), watchers: map[*Watcher]struct{}{}}
}

// Run follows storage until ctx ends, restarting the storage watch after
// errors.
func (c *Cacher) Run(ctx context.Context) {
	go c.bookmarks(ctx)
	first := true
	for ctx.Err() == nil {
		rev, err := c.cfg.Storage.Revision(ctx)
		if err != nil {
			c.cfg.Logger.Error("watch cache: read revision", "prefix", c.cfg.Prefix, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		c.reset(rev)
		if first {
			close(c.ready)
			first = false
		}
		c.follow(ctx, rev)
	}
	c.reset(0)
}

// reset empties the ring at rev and ends every watcher, which then resume
// from their last revision.
func (c *Cacher) reset(rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring = c.ring[:0]
	c.oldest, c.rev = rev, rev
	for w := range c.watchers {
		w.closeLocked()
	}
	c.watchers = map[*Watcher]struct{}{}
}

func (c *Cacher) follow(ctx context.Context, from int64) {
	for resp := range c.cfg.Storage.Watch(ctx, c.cfg.Prefix, from) {
		if resp.Err != nil {
			c.cfg.Logger.Warn("watch cache: storage watch ended", "prefix", c.cfg.Prefix, "err", resp.Err)
			return
		}
		events := make([]*Event, 0, len(resp.Events))
		for _, se := range resp.Events {
			ev, err := Convert(se, c.cfg.Decode)
			if err != nil {
				c.cfg.Logger.Error("watch cache: decode", "key", se.KV.Key, "err", err)
				continue
			}
			events = append(events, ev)
		}
		c.dispatch(events, resp.Revision)
	}
}

func (c *Cacher) dispatch(events []*Event, rev int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, ev := range events {
		c.push(ev)
		for w := range c.watchers {
			if ev.Revision > w.from && strings.HasPrefix(ev.Key, w.prefix) && !w.sendLocked(ev) {
				delete(c.watchers, w)
			}
		}
	}
	if rev > c.rev {
		c.rev = rev
	}
}

func (c *Cacher) push(ev *Event) {
	if len(c.ring) == c.cfg.Capacity {
		c.oldest = c.ring[0].Revision
		copy(c.ring, c.ring[1:])
		c.ring = c.ring[:len(c.ring)-1]
	}
	c.ring = append(c.ring, ev)
	if ev.Revision > c.rev {
		c.rev = ev.Revision
	}
}

// Revision returns the newest revision the cache has seen.
func (c *Cacher) Revision() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rev
}

func (c *Cacher) bookmarks(ctx context.Context) {
	t := time.NewTicker(c.cfg.BookmarkInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.sendBookmarks()
		}
	}
}

func (c *Cacher) sendBookmarks() {
	c.mu.Lock()
	defer c.mu.Unlock()
	ev := &Event{Type: watch.Bookmark, Revision: c.rev}
	for w := range c.watchers {
		if w.bookmarks && ev.Revision > w.from {
			w.trySendLocked(ev)
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
