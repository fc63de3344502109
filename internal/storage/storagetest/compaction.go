package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/svcplane/svcplane/internal/storage"
)

func testCompaction(t *testing.T, s storage.Store, p string) {
	ctx := context.Background()
	ra := mustCreate(t, s, p+"a", "a1")
	ra2 := mustUpdate(t, s, p+"a", "a2", ra)
	rb := mustCreate(t, s, p+"b", "b1")
	rb2 := mustUpdate(t, s, p+"b", "b2", rb)
	c := mustRevision(t, s)
	if err := s.Compact(ctx, c); err != nil {
		t.Fatalf("Compact(%d): %v", c, err)
	}
	t.Run("list before", func(t *testing.T) {
		_, err := s.List(ctx, p, storage.ListOptions{Revision: c - 1})
		wantErr(t, "List before the compaction", err, storage.ErrCompacted)
	})
	t.Run("list at", func(t *testing.T) {
		res := mustList(t, s, p, storage.ListOptions{Revision: c})
		if got, want := kvText(p, res.KVs), kvText(p, []storage.KV{kv(p+"a", "a2", ra2), kv(p+"b", "b2", rb2)}); got != want {
			t.Errorf("List at the compaction:\n%s\nwant:\n%s", got, want)
		}
	})
	t.Run("watch before", func(t *testing.T) {
		ch := s.Watch(t.Context(), p, c-2)
		resp, ok := next(t, ch)
		if !ok || !errors.Is(resp.Err, storage.ErrCompacted) {
			t.Fatalf("first response %+v (open %v), want ErrCompacted", resp, ok)
		}
		if _, ok := next(t, ch); ok {
			t.Errorf("watch still open after its error")
		}
	})
	t.Run("watch at", func(t *testing.T) {
		ch := s.Watch(t.Context(), p, c)
		rc := mustCreate(t, s, p+"c", "c1")
		if got := events(t, ch, 1)[0].KV.ModRevision; got != rc {
			t.Errorf("event at %d, want %d", got, rc)
		}
	})
	t.Run("compact again", func(t *testing.T) {
		wantErr(t, "Compact to the compacted revision", s.Compact(ctx, c), storage.ErrCompacted)
		wantErr(t, "Compact to an older revision", s.Compact(ctx, c-1), storage.ErrCompacted)
	})
}
