package watchcache

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

const prefix = "/registry/configmaps/"

func decodeConfigMap(data []byte, rev int64) (runtime.Object, error) {
	cm := &corev1.ConfigMap{}
	if err := json.Unmarshal(data, cm); err != nil {
		return nil, err
	}
	cm.ResourceVersion = strconv.FormatInt(rev, 10)
	return cm, nil
}

func configMap(ns, name, team string) []byte {
	data, _ := json.Marshal(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"team": team}}})
	return data
}

// startCache runs a cache over a memory store holding the given
// "ns/name" configmaps (team label "a").
func startCache(t *testing.T, capacity int, names ...string) (*Cacher, storage.Store) {
	t.Helper()
	store := memory.New(memory.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, n := range names {
		ns, name, _ := strings.Cut(n, "/")
		if _, err := store.Create(ctx, prefix+n, configMap(ns, name, "a")); err != nil {
			t.Fatal(err)
		}
	}
	c := New(Config{Storage: store, Prefix: prefix, Decode: decodeConfigMap, Capacity: capacity})
	go c.Run(ctx)
	<-c.ready
	return c, store
}

func names(items []runtime.Object) string {
	var out []string
	for _, obj := range items {
		cm := obj.(*corev1.ConfigMap)
		out = append(out, cm.Namespace+"/"+cm.Name)
	}
	return strings.Join(out, " ")
}

// waitRevision waits until the cache has seen rev (its watch is
// asynchronous).
func waitRevision(t *testing.T, c *Cacher, rev int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.WaitFresh(ctx, rev); err != nil {
		t.Fatalf("cache did not reach %d: %v", rev, err)
	}
}

func TestListPagesPrefixesAndSelectors(t *testing.T) {
	c, _ := startCache(t, 0, "a/1", "a/2", "a/3", "b/1", "b/2")
	ctx := context.Background()
	tests := []struct {
		name string
		opts ListOptions
		want string
		next string
	}{
		{"all", ListOptions{}, "a/1 a/2 a/3 b/1 b/2", ""},
		{"namespace", ListOptions{Prefix: prefix + "b/"}, "b/1 b/2", ""},
		{"first page", ListOptions{Limit: 2}, "a/1 a/2", prefix + "a/2\x00"},
		{"next page", ListOptions{Limit: 2, Start: prefix + "a/2\x00"}, "a/3 b/1", prefix + "b/1\x00"},
		{"last page", ListOptions{Limit: 2, Start: prefix + "b/1\x00"}, "b/2", ""},
		{"page ends at the last key", ListOptions{Limit: 5}, "a/1 a/2 a/3 b/1 b/2", ""},
		{"selector", ListOptions{Limit: 2, Match: func(o runtime.Object) bool {
			return strings.HasSuffix(o.(*corev1.ConfigMap).Name, "2")
		}}, "a/2 b/2", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := c.List(ctx, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(res.Items); got != tc.want || res.Next != tc.next {
				t.Errorf("got %q next %q, want %q next %q", got, res.Next, tc.want, tc.next)
			}
		})
	}
}

// TestListAtFirstPageRevision: the pages after the first show the objects
// as they were at the first page's revision, whatever changed since.
func TestListAtFirstPageRevision(t *testing.T) {
	c, store := startCache(t, 0, "a/1", "a/2", "a/3", "a/4")
	ctx := context.Background()
	first, err := c.List(ctx, ListOptions{Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	kv, _ := store.Get(ctx, prefix+"a/3")
	if _, err := store.Update(ctx, prefix+"a/3", configMap("a", "3", "b"), kv.ModRevision); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Delete(ctx, prefix+"a/4", 0); err != nil {
		t.Fatal(err)
	}
	rev, err := store.Create(ctx, prefix+"a/25", configMap("a", "25", "a"))
	if err != nil {
		t.Fatal(err)
	}
	waitRevision(t, c, rev)
	next, err := c.List(ctx, ListOptions{Start: first.Next, Revision: first.Revision})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(next.Items); got != "a/3 a/4" || next.Revision != first.Revision {
		t.Errorf("page at %d: %q at %d, want a/3 a/4", first.Revision, got, next.Revision)
	}
	if team := next.Items[0].(*corev1.ConfigMap).Labels["team"]; team != "a" {
		t.Errorf("a/3 at the first page's revision has team %q, want a", team)
	}
	now, _ := c.List(ctx, ListOptions{Start: first.Next})
	if got := names(now.Items); got != "a/25 a/3" {
		t.Errorf("now: %q, want a/25 a/3", got)
	}
}

func TestListRevisionNotHeld(t *testing.T) {
	c, store := startCache(t, 2, "a/1")
	ctx := context.Background()
	start := c.Revision()
	var rev int64
	for i := range 4 {
		var err error
		if rev, err = store.Create(ctx, prefix+"a/x"+strconv.Itoa(i), configMap("a", "x", "a")); err != nil {
			t.Fatal(err)
		}
	}
	waitRevision(t, c, rev)
	if _, err := c.List(ctx, ListOptions{Revision: start}); !errors.Is(err, ErrRevisionNotHeld) {
		t.Errorf("list at %d after the ring moved on: %v, want ErrRevisionNotHeld", start, err)
	}
	if _, err := c.List(ctx, ListOptions{Revision: rev + 10}); !errors.Is(err, ErrRevisionNotHeld) {
		t.Errorf("list at a future revision: %v, want ErrRevisionNotHeld", err)
	}
}

// TestWaitFreshAfterOtherWrites: writes under another prefix raise
// storage's revision without an event for this cache; a progress request
// proves it current.
func TestWaitFreshAfterOtherWrites(t *testing.T) {
	c, store := startCache(t, 0, "a/1")
	ctx := context.Background()
	rev, err := store.Create(ctx, "/registry/secrets/a/s", []byte("{}"))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	waitRevision(t, c, rev)
	if d := time.Since(begin); d > time.Second {
		t.Errorf("fresh after %v: the progress request did not help", d)
	}
	wctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := c.WaitFresh(wctx, rev+100); err == nil {
		t.Error("fresh at a revision storage has not reached")
	}
}

func TestGet(t *testing.T) {
	c, _ := startCache(t, 0, "a/1")
	obj, _, ok, err := c.Get(context.Background(), prefix+"a/1")
	if err != nil || !ok || obj.(*corev1.ConfigMap).Name != "1" {
		t.Errorf("Get a/1: %v %v %v", obj, ok, err)
	}
	if _, _, ok, _ := c.Get(context.Background(), prefix+"a/2"); ok {
		t.Error("Get a/2: found")
	}
}
