// Package storagetest is the conformance suite of storage.Store: the one
// set of cases every implementation (memory, etcd) passes, so the API server
// can rely on the same behaviour whichever store it runs on.
package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

// hangTimeout fails a case that waits this long for a watch. It guards
// against hangs; it is not a performance bound.
const hangTimeout = 30 * time.Second

// Run runs every case of the suite, each as a subtest on the store newStore
// returns for it. Cases keep to keys under their own prefix, so newStore
// may hand out stores over one shared backend; Run closes each store after
// its case, and newStore registers any other cleanup with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	cases := []struct {
		name string
		run  func(t *testing.T, s storage.Store, p string)
	}{
		{"CreateGet", testCreateGet},
		{"Update", testUpdate},
		{"Delete", testDelete},
		{"ListPrefix", testListPrefix},
		{"ListAtRevision", testListAtRevision},
		{"ListPaging", testListPaging},
		{"ListRevision", testListRevision},
		{"FutureRevision", testFutureRevision},
		{"WatchFromNow", testWatchFromNow},
		{"WatchReplay", testWatchReplay},
		{"WatchDelete", testWatchDelete},
		{"WatchFutureRevision", testWatchFutureRevision},
		{"WatchCancel", testWatchCancel},
		{"Compaction", testCompaction},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentUpdates", testConcurrentUpdates},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() { s.Close() })
			c.run(t, s, "/registry/storagetest-"+strings.ToLower(c.name)+"/")
		})
	}
}

func mustCreate(t *testing.T, s storage.Store, key, value string) int64 {
	t.Helper()
	rev, err := s.Create(context.Background(), key, []byte(value))
	if err != nil {
		t.Fatalf("Create(%s): %v", key, err)
	}
	return rev
}

func mustUpdate(t *testing.T, s storage.Store, key, value string, expectedRev int64) int64 {
	t.Helper()
	rev, err := s.Update(context.Background(), key, []byte(value), expectedRev)
	if err != nil {
		t.Fatalf("Update(%s, %d): %v", key, expectedRev, err)
	}
	return rev
}

func mustDelete(t *testing.T, s storage.Store, key string, expectedRev int64) int64 {
	t.Helper()
	rev, err := s.Delete(context.Background(), key, expectedRev)
	if err != nil {
		t.Fatalf("Delete(%s, %d): %v", key, expectedRev, err)
	}
	return rev
}

func mustRevision(t *testing.T, s storage.Store) int64 {
	t.Helper()
	rev, err := s.Revision(context.Background())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

func mustList(t *testing.T, s storage.Store, prefix string, opts storage.ListOptions) storage.ListResult {
	t.Helper()
	res, err := s.List(context.Background(), prefix, opts)
	if err != nil {
		t.Fatalf("List(%s, %+v): %v", prefix, opts, err)
	}
	return res
}

// wantErr fails unless err is want (nil included), by errors.Is.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// kvText shows KVs as "key=value@rev" lines, keys relative to prefix p.
func kvText(p string, kvs []storage.KV) string {
	var b strings.Builder
	for _, kv := range kvs {
		fmt.Fprintf(&b, "%s=%s@%d\n", strings.TrimPrefix(kv.Key, p), kv.Value, kv.ModRevision)
	}
	return b.String()
}

// keysText shows the keys of KVs relative to prefix p, space separated.
func keysText(p string, kvs []storage.KV) string {
	keys := make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i] = strings.TrimPrefix(kv.Key, p)
	}
	return strings.Join(keys, " ")
}
