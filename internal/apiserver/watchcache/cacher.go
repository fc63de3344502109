// Package watchcache fans one storage watch per resource out to all the
// API server's watch clients, and answers lists from memory. It keeps the
// resource's current objects (one list from storage, then the watch's
// events) and a ring of recent events, so a client can resume from a
// recent resourceVersion without touching storage and a paged list can be
// continued at the revision of its first page; an older resourceVersion
// falls back to a watch of its own on storage, which answers "too old"
// (410 Gone) once that revision is compacted.
package watchcache

import (
	"context"
	"errors"
	"log/slog"
	"slices"
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

	mu sync.RWMutex
	// ring holds recent events in revision order; it covers every event
	// after revision oldest.
	ring   []*Event
	oldest int64
	// rev is the revision the cache has seen every change up to; objs
	// are the objects as they were then.
	rev  int64
	objs objects
	// advanced is closed, and replaced, whenever rev moves.
	advanced chan struct{}
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
	return &Cacher{cfg: cfg, ready: make(chan struct{}), advanced: make(chan struct{}), watchers: map[*Watcher]struct{}{}}
}

// Run follows storage until ctx ends, restarting the storage watch after
// errors.
func (c *Cacher) Run(ctx context.Context) {
	go c.bookmarks(ctx)
	first := true
	for ctx.Err() == nil {
		rev, objs, err := c.load(ctx)
		if err != nil {
			c.cfg.Logger.Error("watch cache: list", "prefix", c.cfg.Prefix, "err", err)
			sleep(ctx, time.Second)
			continue
		}
		c.reset(rev, objs)
		if first {
			close(c.ready)
			first = false
		}
		c.follow(ctx, rev)
	}
	c.reset(0, objects{})
}

// loadChunk is how many keys one storage read of the initial list takes.
const loadChunk = 1000

// load lists the resource from storage, page by page at one revision.
func (c *Cacher) load(ctx context.Context) (int64, objects, error) {
	var objs objects
	var rev int64
	start := ""
	for {
		page, err := c.cfg.Storage.List(ctx, c.cfg.Prefix, storage.ListOptions{Revision: rev, StartKey: start, Limit: loadChunk})
		if err != nil {
			return 0, objects{}, err
		}
		rev = page.Revision
		for _, kv := range page.KVs {
			obj, err := c.cfg.Decode(kv.Value, kv.ModRevision)
			if err != nil {
				c.cfg.Logger.Error("watch cache: decode", "key", kv.Key, "err", err)
				continue
			}
			objs.sorted = append(objs.sorted, entry{key: kv.Key, obj: obj})
		}
		if !page.More || len(page.KVs) == 0 {
			return rev, objs, nil
		}
		start = page.KVs[len(page.KVs)-1].Key + "\x00"
	}
}

// reset replaces the objects with objs, as of rev, empties the ring and
// ends every watcher, which then resume from their last revision.
func (c *Cacher) reset(rev int64, objs objects) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ring = c.ring[:0]
	c.oldest, c.objs = rev, objs
	c.advance(rev)
	for w := range c.watchers {
		w.closeLocked()
	}
	c.watchers = map[*Watcher]struct{}{}
}

// follow applies the storage watch's events from revision from. The watch
// has a stream of its own, which the progress requests of WaitFresh ask.
func (c *Cacher) follow(ctx context.Context, from int64) {
	ctx = storage.WithWatchStream(ctx, c.cfg.Prefix)
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
		c.objs.apply(ev)
		for w := range c.watchers {
			if ev.Revision > w.from && strings.HasPrefix(ev.Key, w.prefix) && !w.sendLocked(ev) {
				delete(c.watchers, w)
			}
		}
	}
	c.advance(max(rev, c.rev))
}

// advance moves the revision the cache is current at and wakes the reads
// waiting for it. c.mu must be held.
func (c *Cacher) advance(rev int64) {
	if rev == c.rev {
		return
	}
	c.rev = rev
	close(c.advanced)
	c.advanced = make(chan struct{})
}

func (c *Cacher) push(ev *Event) {
	if len(c.ring) == c.cfg.Capacity {
		c.oldest = c.ring[0].Revision
		copy(c.ring, c.ring[1:])
		c.ring = c.ring[:len(c.ring)-1]
	}
	c.ring = append(c.ring, ev)
}

// Revision returns the newest revision the cache has seen.
func (c *Cacher) Revision() int64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rev
}

// Get returns the object at key as the cache holds it now (shared: not to
// be modified), and the cache's revision.
func (c *Cacher) Get(ctx context.Context, key string) (runtime.Object, int64, bool, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, 0, false, ctx.Err()
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	i, found := slices.BinarySearchFunc(c.objs.sorted, key, compareEntry)
	if !found {
		return nil, c.rev, false, nil
	}
	return c.objs.sorted[i].obj, c.rev, true, nil
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
