package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/memory"
	"github.com/svcplane/svcplane/internal/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(*testing.T) storage.Store { return memory.New(memory.Config{}) })
}

// A watch nobody reads never holds writers up; once compaction passes it,
// it ends with ErrCompacted, as a slow etcd watcher does.
func TestSlowWatcherIsCompactedAway(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Config{})
	ch := s.Watch(t.Context(), "/p/", 0)
	for i := range 1000 {
		if _, err := s.Create(ctx, fmt.Sprintf("/p/%04d", i), []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	rev, _ := s.Revision(ctx)
	if err := s.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	var last storage.WatchResponse
	for resp := range ch {
		last = resp
	}
	if !errors.Is(last.Err, storage.ErrCompacted) {
		t.Errorf("last response %+v, want ErrCompacted", last)
	}
}

func TestProgressNotice(t *testing.T) {
	s := memory.New(memory.Config{ProgressNotifyInterval: time.Millisecond})
	rev, _ := s.Create(context.Background(), "/q/a", []byte("v"))
	ch := s.Watch(t.Context(), "/p/", 0)
	if resp := <-ch; len(resp.Events) != 0 || resp.Err != nil || resp.Revision != rev {
		t.Errorf("response %+v, want a progress notice at %d", resp, rev)
	}
}

func TestClosed(t *testing.T) {
	ctx := context.Background()
	s := memory.New(memory.Config{})
	live := s.Watch(t.Context(), "/p/", 0)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range live {
	}
	calls := map[string]error{}
	_, calls["Get"] = s.Get(ctx, "/p/a")
	_, calls["Create"] = s.Create(ctx, "/p/a", nil)
	_, calls["Update"] = s.Update(ctx, "/p/a", nil, 0)
	_, calls["Delete"] = s.Delete(ctx, "/p/a", 0)
	_, calls["List"] = s.List(ctx, "/p/", storage.ListOptions{})
	_, calls["Revision"] = s.Revision(ctx)
	calls["Compact"] = s.Compact(ctx, 1)
	calls["Watch"] = (<-s.Watch(t.Context(), "/p/", 0)).Err
	for name, err := range calls {
		if err == nil {
			t.Errorf("%s after Close succeeded", name)
		}
	}
}
