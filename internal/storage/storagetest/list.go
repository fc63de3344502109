package storagetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/storage"
)

func testListPrefix(t *testing.T, s storage.Store, p string) {
	for _, key := range []string{"pods/a/one", "pods/b/two", "podsx/a/three", "pod/a/four", "pods"} {
		mustCreate(t, s, p+key, key)
	}
	tests := []struct{ prefix, want string }{
		{"pods/", "pods/a/one pods/b/two"},
		{"pods/a/", "pods/a/one"},
		{"podsx/", "podsx/a/three"},
		{"pod/", "pod/a/four"},
		{"nothing/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			res := mustList(t, s, p+tt.prefix, storage.ListOptions{})
			if got := keysText(p, res.KVs); got != tt.want || res.More {
				t.Errorf("List = %q (more %v), want %q", got, res.More, tt.want)
			}
		})
	}
}

func testListAtRevision(t *testing.T, s storage.Store, p string) {
	ra := mustCreate(t, s, p+"a", "a1")
	rb := mustCreate(t, s, p+"b", "b1")
	old := mustRevision(t, s)
	ra2 := mustUpdate(t, s, p+"a", "a2", ra)
	mustDelete(t, s, p+"b", rb)
	rc := mustCreate(t, s, p+"c", "c1")
	now := mustRevision(t, s)
	tests := []struct {
		name        string
		rev, readAt int64
		want        []storage.KV
	}{
		{"older", old, old, []storage.KV{kv(p+"a", "a1", ra), kv(p+"b", "b1", rb)}},
		{"before any", ra - 1, ra - 1, nil},
		{"newest", now, now, []storage.KV{kv(p+"a", "a2", ra2), kv(p+"c", "c1", rc)}},
		{"zero is newest", 0, now, []storage.KV{kv(p+"a", "a2", ra2), kv(p+"c", "c1", rc)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := mustList(t, s, p, storage.ListOptions{Revision: tt.rev})
			if got, want := kvText(p, res.KVs), kvText(p, tt.want); got != want {
				t.Errorf("List at %d:\n%s\nwant:\n%s", tt.rev, got, want)
			}
			if res.Revision != tt.readAt {
				t.Errorf("List at %d read at revision %d, want %d", tt.rev, res.Revision, tt.readAt)
			}
		})
	}
}

func kv(key, value string, rev int64) storage.KV {
	return storage.KV{Key: key, Value: []byte(value), ModRevision: rev}
}

// testListPaging pages through a prefix at the revision of the first page,
// while a write lands between pages, as the API server's paged lists do.
func testListPaging(t *testing.T, s storage.Store, p string) {
	tests := []struct {
		limit int64
		want  []string // keys of each page
	}{
		{2, []string{"k0 k1", "k2 k3", "k4"}},
		{3, []string{"k0 k1 k2", "k3 k4"}},
		{5, []string{"k0 k1 k2 k3 k4"}},
		{0, []string{"k0 k1 k2 k3 k4"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			q := fmt.Sprintf("%slimit%d/", p, tt.limit)
			for _, key := range []string{"k0", "k1", "k2", "k3", "k4"} {
				mustCreate(t, s, q+key, key)
			}
			mustCreate(t, s, q[:len(q)-1]+"x/k5", "outside the prefix")
			got := pages(t, s, q, tt.limit, func() { mustCreate(t, s, q+"k9", "late") })
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("pages %q, want %q", got, tt.want)
			}
		})
	}
}

// pages lists p limit keys at a time, calling between after each page.
func pages(t *testing.T, s storage.Store, p string, limit int64, between func()) []string {
	opts := storage.ListOptions{Limit: limit}
	var out []string
	for {
		res := mustList(t, s, p, opts)
		if opts.Revision != 0 && res.Revision != opts.Revision {
			t.Errorf("page read at %d, want %d", res.Revision, opts.Revision)
		}
		out = append(out, keysText(p, res.KVs))
		if !res.More {
			return out
		}
		if len(out) > 10 {
			t.Fatalf("paging does not end: %q", out)
		}
		if opts.Revision == 0 {
			between()
		}
		opts.Revision = res.Revision
		opts.StartKey = res.KVs[len(res.KVs)-1].Key + "\x00"
	}
}

func testListRevision(t *testing.T, s storage.Store, p string) {
	mustCreate(t, s, p+"a", "a")
	rev := mustCreate(t, s, p+"b", "b")
	res := mustList(t, s, p, storage.ListOptions{})
	if now := mustRevision(t, s); res.Revision != now || res.Revision < rev {
		t.Errorf("List revision %d, want the store's %d (at least %d)", res.Revision, now, rev)
	}
	other := mustCreate(t, s, p[:len(p)-1]+"-other/x", "x")
	res = mustList(t, s, p, storage.ListOptions{})
	if res.Revision != other {
		t.Errorf("List revision %d after a write elsewhere, want %d", res.Revision, other)
	}
}

func testFutureRevision(t *testing.T, s storage.Store, p string) {
	mustCreate(t, s, p+"a", "a")
	future := mustRevision(t, s) + 10
	_, err := s.List(context.Background(), p, storage.ListOptions{Revision: future})
	wantErr(t, "List at a future revision", err, storage.ErrFutureRevision)
	err = s.Compact(context.Background(), future)
	wantErr(t, "Compact to a future revision", err, storage.ErrFutureRevision)
}
