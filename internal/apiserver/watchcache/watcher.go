package watchcache

import (
	"context"
	"errors"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/storage"
)

// WatchOptions narrow a watch.
type WatchOptions struct {
	// From: events after this revision are sent.
	From int64
	// Prefix narrows the keys (to a namespace); "" is the whole resource.
	Prefix string
	// Bookmarks asks for periodic bookmark events.
	Bookmarks bool
}

// Watcher receives the events of one watch in revision order. Its channel
// closes when the watch ends; an Error event may come last.
type Watcher struct {
	ch     chan *Event
	prefix string
	// from is the revision the watch started after: a cache still behind
	// it when the watch began must not send it the events up to it.
	from      int64
	bookmarks bool
	closed    bool
	stop      func()
}

// buffer is how many events a slow client may lag behind before its watch
// is ended (it then resumes from its last revision).
const buffer = 1024

// ResultChan returns the events.
func (w *Watcher) ResultChan() <-chan *Event { return w.ch }

// Stop ends the watch.
func (w *Watcher) Stop() { w.stop() }

func (w *Watcher) sendLocked(ev *Event) bool {
	if w.closed {
		return false
	}
	select {
	case w.ch <- ev:
		return true
	default:
		w.closeLocked()
		return false
	}
}

func (w *Watcher) trySendLocked(ev *Event) {
	if w.closed {
		return
	}
	select {
	case w.ch <- ev:
	default:
	}
}

func (w *Watcher) closeLocked() {
	if !w.closed {
		w.closed = true
		close(w.ch)
	}
}

// Watch starts a watch from opts.From. Recent revisions are served from the
// ring; older ones from a storage watch of their own.
func (c *Cacher) Watch(ctx context.Context, opts WatchOptions) (*Watcher, error) {
	select {
	case <-c.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	prefix := c.cfg.Prefix
	if opts.Prefix != "" {
		prefix = opts.Prefix
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if opts.From < c.oldest {
		return c.direct(ctx, prefix, opts.From), nil
	}
	replay := c.since(opts.From, prefix)
	w := &Watcher{ch: make(chan *Event, buffer+len(replay)), prefix: prefix, from: opts.From, bookmarks: opts.Bookmarks}
	for _, ev := range replay {
		w.ch <- ev
	}
	w.stop = func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		delete(c.watchers, w)
		w.closeLocked()
	}
	c.watchers[w] = struct{}{}
	return w, nil
}

func (c *Cacher) since(rev int64, prefix string) []*Event {
	var out []*Event
	for _, ev := range c.ring {
		if ev.Revision > rev && strings.HasPrefix(ev.Key, prefix) {
			out = append(out, ev)
		}
	}
	return out
}

// direct serves a watch from storage, for revisions the ring no longer
// holds.
func (c *Cacher) direct(ctx context.Context, prefix string, from int64) *Watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{ch: make(chan *Event, buffer), prefix: prefix, stop: cancel}
	go func() {
		defer close(w.ch)
		for resp := range c.cfg.Storage.Watch(ctx, prefix, from) {
			if resp.Err != nil {
				w.ch <- &Event{Type: watch.Error, Err: resp.Err}
				return
			}
			if !c.forward(ctx, w, resp.Events) {
				return
			}
		}
	}()
	return w
}

func (c *Cacher) forward(ctx context.Context, w *Watcher, events []storage.Event) bool {
	for _, se := range events {
		ev, err := Convert(se, c.cfg.Decode)
		if err != nil {
			c.cfg.Logger.Error("watch: decode", "key", se.KV.Key, "err", err)
			continue
		}
		select {
		case w.ch <- ev:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// Convert decodes a storage event into a watch event.
func Convert(se storage.Event, decode func([]byte, int64) (runtime.Object, error)) (*Event, error) {
	ev := &Event{Revision: se.KV.ModRevision, Key: se.KV.Key}
	var err error
	if se.Prev != nil {
		if ev.Prev, err = decode(se.Prev.Value, se.Prev.ModRevision); err != nil {
			return nil, err
		}
	}
	switch {
	case se.Type == storage.EventDelete:
		if se.Prev == nil {
			return nil, errors.New("delete event without the previous value")
		}
		ev.Type = watch.Deleted
		ev.Object, err = decode(se.Prev.Value, se.KV.ModRevision)
	case se.Created || se.Prev == nil:
		ev.Type = watch.Added
		ev.Object, err = decode(se.KV.Value, se.KV.ModRevision)
	default:
		ev.Type = watch.Modified
		ev.Object, err = decode(se.KV.Value, se.KV.ModRevision)
	}
	return ev, err
}
