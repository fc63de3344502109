package storagetest

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/svcplane/svcplane/internal/storage"
)

func testCreateGet(t *testing.T, s storage.Store, p string) {
	ctx := context.Background()
	before := mustRevision(t, s)
	rev := mustCreate(t, s, p+"a", "one")
	if rev <= before {
		t.Fatalf("Create revision %d, want above %d", rev, before)
	}
	if got := mustRevision(t, s); got != rev {
		t.Errorf("Revision after Create = %d, want %d", got, rev)
	}
	kv, err := s.Get(ctx, p+"a")
	if err != nil || string(kv.Value) != "one" || kv.ModRevision != rev || kv.Key != p+"a" {
		t.Fatalf("Get = %+v, %v; want one@%d", kv, err, rev)
	}
	_, err = s.Create(ctx, p+"a", []byte("two"))
	wantErr(t, "Create of an existing key", err, storage.ErrExists)
	_, err = s.Get(ctx, p+"missing")
	wantErr(t, "Get of an absent key", err, storage.ErrNotFound)
	mustCreate(t, s, p+"empty", "")
	if kv, err := s.Get(ctx, p+"empty"); err != nil || len(kv.Value) != 0 {
		t.Errorf("Get of an empty value = %+v, %v", kv, err)
	}
}

// history writes to one key; it returns the revisions of the writes.
type history func(t *testing.T, s storage.Store, key string) []int64

func created(t *testing.T, s storage.Store, key string) []int64 {
	return []int64{mustCreate(t, s, key, "v1")}
}

func updated(t *testing.T, s storage.Store, key string) []int64 {
	r1 := mustCreate(t, s, key, "v1")
	return []int64{r1, mustUpdate(t, s, key, "v2", r1)}
}

func deleted(t *testing.T, s storage.Store, key string) []int64 {
	r1 := mustCreate(t, s, key, "v1")
	return []int64{r1, mustDelete(t, s, key, r1)}
}

func absent(*testing.T, storage.Store, string) []int64 { return []int64{0} }

// Revisions to pass as expectedRev, picked from a history.

func last(revs []int64) int64  { return revs[len(revs)-1] }
func first(revs []int64) int64 { return revs[0] }
func zero([]int64) int64       { return 0 }
func seven([]int64) int64      { return 7 }

func testUpdate(t *testing.T, s storage.Store, p string) {
	tests := []struct {
		name     string
		history  history
		expected func([]int64) int64
		want     error
	}{
		{"current revision", updated, last, nil},
		{"stale revision", updated, first, storage.ErrConflict},
		{"absent key", absent, seven, storage.ErrNotFound},
		{"deleted key", deleted, first, storage.ErrNotFound},
		{"zero creates an absent key", absent, zero, nil},
		{"zero on a present key", created, zero, storage.ErrConflict},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := p + string(rune('a'+i))
			expected := tt.expected(tt.history(t, s, key))
			rev, err := s.Update(context.Background(), key, []byte("new"), expected)
			wantErr(t, "Update", err, tt.want)
			kv, getErr := s.Get(context.Background(), key)
			if err == nil && (getErr != nil || !bytes.Equal(kv.Value, []byte("new")) || kv.ModRevision != rev) {
				t.Errorf("Get after Update = %+v, %v; want new@%d", kv, getErr, rev)
			}
			if err != nil && getErr == nil && bytes.Equal(kv.Value, []byte("new")) {
				t.Errorf("failed Update wrote the key")
			}
		})
	}
}

func testDelete(t *testing.T, s storage.Store, p string) {
	tests := []struct {
		name     string
		history  history
		expected func([]int64) int64
		want     error
	}{
		{"current revision", updated, last, nil},
		{"stale revision", updated, first, storage.ErrConflict},
		{"unconditional", updated, zero, nil},
		{"absent key guarded", absent, seven, storage.ErrNotFound},
		{"absent key unconditional", absent, zero, storage.ErrNotFound},
		{"deleted key", deleted, zero, storage.ErrNotFound},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := p + string(rune('a'+i))
			revs := tt.history(t, s, key)
			rev, err := s.Delete(context.Background(), key, tt.expected(revs))
			wantErr(t, "Delete", err, tt.want)
			_, getErr := s.Get(context.Background(), key)
			switch {
			case err == nil && !errors.Is(getErr, storage.ErrNotFound):
				t.Errorf("Get after Delete: %v, want ErrNotFound", getErr)
			case err == nil && (rev <= last(revs) || rev != mustRevision(t, s)):
				t.Errorf("Delete revision %d, want the store's, above %d", rev, last(revs))
			case tt.want == storage.ErrConflict && getErr != nil:
				t.Errorf("failed Delete removed the key: %v", getErr)
			}
		})
	}
}
