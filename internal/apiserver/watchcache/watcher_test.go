package watchcache

import (
	"context"
	"testing"

	"k8s.io/apimachinery/pkg/watch"
)

// TestWatchAheadOfCacheSkipsOlderEvents: a watch from a revision the
// cache has not reached yet (a list answered by storage, ahead of the
// cache) gets only the events after it once the cache catches up.
func TestWatchAheadOfCacheSkipsOlderEvents(t *testing.T) {
	c := New(Config{Prefix: "/registry/configmaps/"})
	close(c.ready)
	c.reset(5, objects{})
	w, err := c.Watch(context.Background(), WatchOptions{From: 7, Bookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	c.sendBookmarks() // at 5: behind the watch, not sent
	for rev := int64(6); rev <= 8; rev++ {
		c.dispatch([]*Event{{Type: watch.Added, Revision: rev, Key: "/registry/configmaps/default/a"}}, rev)
	}
	c.sendBookmarks()
	var got []int64
	for len(w.ch) > 0 {
		ev := <-w.ch
		if ev.Type == watch.Bookmark {
			got = append(got, -ev.Revision)
		} else {
			got = append(got, ev.Revision)
		}
	}
	if len(got) != 2 || got[0] != 8 || got[1] != -8 {
		t.Errorf("events (bookmarks negative): %v, want [8 -8]", got)
	}
}
