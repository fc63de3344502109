package etcd

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svcplane/svcplane/internal/storage"
)

// errWatchClosed ends a watch whose etcd stream closed while the watcher
// still wanted it: the client or the Store was closed.
var errWatchClosed = errors.New("etcd watch closed")

// Watch streams the changes under prefix after fromRev. With fromRev 0 it
// first reads the store's revision, before it returns, so that "from now"
// means from the call, not from whenever etcd registers the watch.
func (s *Store) Watch(ctx context.Context, prefix string, fromRev int64) <-chan storage.WatchResponse {
	out := make(chan storage.WatchResponse)
	var err error
	if fromRev == 0 {
		fromRev, err = s.Revision(ctx)
	}
	go func() {
		defer close(out)
		if err != nil {
			send(ctx, out, storage.WatchResponse{Err: fmt.Errorf("watch %s: %w", prefix, err)})
			return
		}
		s.watch(ctx, prefix, fromRev, out)
	}()
	return out
}

func (s *Store) watch(ctx context.Context, prefix string, fromRev int64, out chan<- storage.WatchResponse) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	wch := s.client.Watch(watchContext(ctx), prefix,
		clientv3.WithPrefix(), clientv3.WithPrevKV(), clientv3.WithProgressNotify(),
		clientv3.WithRev(fromRev+1))
	s.pump(ctx, prefix, wch, out)
}

// pump forwards wch to out until ctx ends or the watch fails.
func (s *Store) pump(ctx context.Context, prefix string, wch clientv3.WatchChan, out chan<- storage.WatchResponse) {
	for wresp := range wch {
		resp := toWatchResponse(wresp)
		if resp.Err != nil {
			resp.Err = fmt.Errorf("watch %s: %w", prefix, resp.Err)
		}
		if !send(ctx, out, resp) || resp.Err != nil {
			return
		}
	}
	if ctx.Err() == nil {
		send(ctx, out, storage.WatchResponse{Err: fmt.Errorf("watch %s: %w", prefix, errWatchClosed)})
	}
}

// toWatchResponse converts one etcd watch response: events, a progress
// notice (no events; etcd sends them only to watchers that have caught up),
// or an error.
func toWatchResponse(wresp clientv3.WatchResponse) storage.WatchResponse {
	if err := wresp.Err(); err != nil {
		if wresp.CompactRevision != 0 {
			return storage.WatchResponse{Err: fmt.Errorf("%w: compacted at %d", storage.ErrCompacted, wresp.CompactRevision)}
		}
		return storage.WatchResponse{Err: classify(err)}
	}
	resp := storage.WatchResponse{Revision: wresp.Header.Revision}
	for _, ev := range wresp.Events {
		resp.Events = append(resp.Events, toEvent(ev))
	}
	if n := len(resp.Events); n > 0 {
		// The header carries the newest revision, which a watcher still
		// catching up has not reached: it has reached its last event.
		resp.Revision = resp.Events[n-1].KV.ModRevision
	}
	return resp
}

func toEvent(ev *clientv3.Event) storage.Event {
	e := storage.Event{KV: toKV(ev.Kv), Created: ev.IsCreate()}
	if ev.Type == clientv3.EventTypeDelete {
		e.Type = storage.EventDelete
		e.KV.Value = nil
	}
	if ev.PrevKv != nil {
		prev := toKV(ev.PrevKv)
		e.Prev = &prev
	}
	return e
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
