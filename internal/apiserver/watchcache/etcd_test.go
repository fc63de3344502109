package watchcache

import (
	"context"
	"testing"
	"time"

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
