package memory

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

// maxBatch caps the events of one WatchResponse.
const maxBatch = 256

// watcher is one watch: the events under prefix after revision seen are
// still to be sent. Only its own goroutine changes seen, under s.mu.
type watcher struct {
	prefix string
	seen   int64
	wake   chan struct{} // capacity 1: a pending wake-up is enough
	// progress asks for a progress notice (capacity 1).
	progress chan struct{}
}

// Watch streams the changes under prefix after fromRev (0: from now).
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan storage.WatchResponse {
	out := make(chan storage.WatchResponse)
	w := &watcher{prefix: prefix, seen: fromRev, wake: make(chan struct{}, 1), progress: make(chan struct{}, 1)}
	s.mu.Lock()
	closed := s.closed
	if !closed {
		if w.seen == 0 {
			w.seen = s.rev
		}
		s.watchers[w] = struct{}{}
	}
	s.mu.Unlock()
	go func() {
		defer close(out)
		if closed {
			send(ctx, out, storage.WatchResponse{Err: fmt.Errorf("watch %s: %w", prefix, errClosed)})
			return
		}
		defer s.forget(w)
		s.serve(ctx, w, out)
	}()
	return out
}

// serve sends w's events to out as they come, until ctx ends, the store
// closes, or the watch fails.
func (s *Store) serve(ctx context.Context, w *watcher, out chan<- storage.WatchResponse) {
	var tick <-chan time.Time
	if s.progress > 0 {
		t := time.NewTicker(s.progress)
		defer t.Stop()
		tick = t.C
	}
	notify := false
	for {
		if resp, ok := s.pending(w); ok {
			if !send(ctx, out, resp) || resp.Err != nil {
				return
			}
			continue
		}
		if notify {
			if !send(ctx, out, s.progressNotice(w)) {
				return
			}
			notify = false
		}
		select {
		case <-w.wake:
		case <-w.progress:
			notify = true
		case <-tick:
			notify = true
		case <-ctx.Done():
			return
		case <-s.done:
			return
		}
	}
}

// pending takes the next events due to w from the log and moves w past
// them. With nothing due, w moves to the newest revision and ok is false.
func (s *Store) pending(w *watcher) (resp storage.WatchResponse, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w.seen+1 < s.compacted {
		err := fmt.Errorf("watch %s from revision %d: %w (compacted at %d)", w.prefix, w.seen, storage.ErrCompacted, s.compacted)
		return storage.WatchResponse{Err: err}, true
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].KV.ModRevision > w.seen })
	for ; i < len(s.log) && len(resp.Events) < maxBatch; i++ {
		if ev := s.log[i]; strings.HasPrefix(ev.KV.Key, w.prefix) {
			resp.Events = append(resp.Events, cloneEvent(ev))
		}
	}
	resp.Revision = max(w.seen, s.rev)
	if i < len(s.log) {
		resp.Revision = s.log[i-1].KV.ModRevision
	}
	w.seen = resp.Revision
	return resp, len(resp.Events) > 0
}

// RequestProgress asks every watch for a progress notice once it has
// sent what is due, as etcd's RequestProgress does.
func (s *Store) RequestProgress(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.watchers {
		select {
		case w.progress <- struct{}{}:
		default:
		}
	}
	return nil
}

// progressNotice tells w it has seen every change up to now.
func (s *Store) progressNotice(w *watcher) storage.WatchResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return storage.WatchResponse{Revision: w.seen}
}

// wake tells the watchers of key there is something to read. It never
// blocks. s.mu must be held.
func (s *Store) wake(key string) {
	for w := range s.watchers {
		if strings.HasPrefix(key, w.prefix) {
			select {
			case w.wake <- struct{}{}:
			default:
			}
		}
	}
}

func (s *Store) forget(w *watcher) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.watchers, w)
}

func cloneEvent(ev storage.Event) storage.Event {
	ev.KV.Value = bytes.Clone(ev.KV.Value)
	if ev.Prev != nil {
		prev := *ev.Prev
		prev.Value = bytes.Clone(prev.Value)
		ev.Prev = &prev
	}
	return ev
}

// send delivers resp unless ctx ends first.
func send(ctx context.Context, out chan<- storage.WatchResponse, resp storage.WatchResponse) bool {
	select {
	case out <- resp:
		return true
	case <-ctx.Done():
		return false
	}
}
