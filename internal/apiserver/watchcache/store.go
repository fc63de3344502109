package watchcache

import (
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// entry is one object of the cache under its storage key.
type entry struct {
	key string
	obj runtime.Object
}

// objects holds the current objects of a resource sorted by key, so that
// a list of a namespace is a range and a page starts at a key.
type objects struct {
	sorted []entry
}

func compareEntry(e entry, key string) int { return strings.Compare(e.key, key) }

func (o *objects) set(key string, obj runtime.Object) {
	i, found := slices.BinarySearchFunc(o.sorted, key, compareEntry)
	if found {
		o.sorted[i].obj = obj
		return
	}
	o.sorted = slices.Insert(o.sorted, i, entry{key: key, obj: obj})
}

func (o *objects) remove(key string) {
	if i, found := slices.BinarySearchFunc(o.sorted, key, compareEntry); found {
		o.sorted = slices.Delete(o.sorted, i, i+1)
	}
}

// apply brings the objects up to date with one event.
func (o *objects) apply(ev *Event) {
	switch ev.Type {
	case watch.Added, watch.Modified:
		o.set(ev.Key, ev.Object)
	case watch.Deleted:
		o.remove(ev.Key)
	}
}

// from returns the index of the first key >= start.
func (o *objects) from(start string) int {
	i, _ := slices.BinarySearchFunc(o.sorted, start, compareEntry)
	return i
}

// undo is what a key held at an earlier revision: the state before the
// first change after it (nil: the key did not exist).
type undo map[string]runtime.Object

// undoSince returns, for every key under prefix changed after rev, its
// state at rev. The ring must cover every event after rev.
func undoSince(ring []*Event, rev int64, prefix string) undo {
	u := undo{}
	i, _ := slices.BinarySearchFunc(ring, rev+1, func(ev *Event, r int64) int { return int(min(max(ev.Revision-r, -1), 1)) })
	for _, ev := range ring[i:] {
		if _, seen := u[ev.Key]; seen || !strings.HasPrefix(ev.Key, prefix) {
			continue
		}
		if ev.Type == watch.Added {
			u[ev.Key] = nil
		} else {
			u[ev.Key] = ev.Prev
		}
	}
	return u
}

// sortedKeys returns the keys of u at or after start, in order.
func (u undo) sortedKeys(start string) []string {
	keys := make([]string, 0, len(u))
	for k := range u {
		if k >= start {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}
