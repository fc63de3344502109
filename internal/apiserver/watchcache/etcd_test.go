package watchcache

import (
	"context"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage/diskguard"
	"github.com/svcplane/svcplane/internal/storage/etcd"
)

// TestWaitFreshOverEtcd: over etcd, a cache whose resource did not change
// learns from a requested progress notice that it is current (etcd's own
// periodic notices are an hour apart here).
func TestWaitFreshOverEtcd(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: t.TempDir(), UnsafeNoFsync: true, ProgressNotifyInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	store, err := etcd.New(etcd.Config{Client: e.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Create(ctx, prefix+"a/1", configMap("a", "1", "a")); err != nil {
		t.Fatal(err)
	}
	c := New(Config{Storage: store, Prefix: prefix, Decode: decodeConfigMap})
	go c.Run(ctx)
	for i := range 3 {
		rev, err := store.Create(ctx, "/registry/secrets/a/s"+string(rune('0'+i)), []byte("{}"))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.WaitFresh(ctx, rev); err != nil {
			t.Fatalf("wait for %d: %v", rev, err)
		}
	}
	res, err := c.List(ctx, ListOptions{})
	if err != nil || names(res.Items) != "a/1" {
		t.Errorf("list: %v %v", res.Items, err)
	}
}

// TestWaitFreshBesideWatchFromNow: a consistent read of a quiet resource
// answers at once although another watch on etcd starts after etcd's
// revision (an informer's watch from its list's revision, or a cache that
// loaded last): etcd answers no progress request on a stream holding such
// a watch until the next write, so each cache asks on a stream of its own.
func TestWaitFreshBesideWatchFromNow(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: t.TempDir(), UnsafeNoFsync: true, ProgressNotifyInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	store, err := etcd.New(etcd.Config{Client: e.Client()})
	if err != nil {
		t.Fatal(err)
	}
	// The caches read through the disk guard, as the API server's do.
	guarded, err := diskguard.New(diskguard.Config{Store: store, Dir: t.TempDir(), Reserve: -1})
	if err != nil {
		t.Fatal(err)
	}
	rev0, err := store.Create(ctx, prefix+"a/1", configMap("a", "1", "a"))
	if err != nil {
		t.Fatal(err)
	}
	c := New(Config{Storage: guarded, Prefix: prefix, Decode: decodeConfigMap})
	go c.Run(ctx)
	if err := c.WaitFresh(ctx, rev0); err != nil {
		t.Fatal(err)
	}
	rev, err := store.Create(ctx, "/registry/secrets/a/s", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	// Watches from etcd's revision: a plain one, and a second cache's.
	other := store.Watch(ctx, "/registry/pods/", rev)
	later := New(Config{Storage: guarded, Prefix: "/registry/secrets/", Decode: decodeConfigMap})
	go later.Run(ctx)
	wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
	defer wcancel()
	if err := later.WaitFresh(wctx, rev); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.WaitFresh(ctx, rev); err != nil {
		t.Fatalf("wait for %d: %v", rev, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a quiet resource waited %v for a progress notice", d)
	}
	select {
	case resp := <-other:
		t.Errorf("the other watch got %+v", resp)
	default:
	}
}
