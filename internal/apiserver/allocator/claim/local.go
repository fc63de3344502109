package claim

import "strings"

// keyspace is the local side of one Range, addressed by claim keys: what
// the watch, the start-up and the sweep change.
type keyspace interface {
	// owns reports whether key is a claim of this range.
	owns(key string) bool
	// mark and unmark change the local allocator for a claim key; keys
	// that do not parse or lie outside the range are ignored.
	mark(key string)
	unmark(key string)
	// resync makes the local allocator match claimed (a full list of
	// claim keys), except for the values being claimed now.
	resync(claimed map[string]bool)
}

func (r *Range[T]) owns(key string) bool { return strings.HasPrefix(key, r.codec.prefix) }

func (r *Range[T]) parse(key string) (T, bool) {
	v, err := r.codec.parse(strings.TrimPrefix(key, r.codec.prefix))
	return v, err == nil && r.owns(key)
}

func (r *Range[T]) mark(key string) {
	if v, ok := r.parse(key); ok {
		_ = r.local.Allocate(v)
	}
}

func (r *Range[T]) unmark(key string) {
	if v, ok := r.parse(key); ok {
		_ = r.local.Release(v)
	}
}

func (r *Range[T]) resync(claimed map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var stale []T
	r.local.ForEach(func(v T) {
		if r.pending[v] == 0 && !claimed[r.codec.key(v)] {
			stale = append(stale, v)
		}
	})
	for _, v := range stale {
		_ = r.local.Release(v)
	}
	for key := range claimed {
		r.mark(key)
	}
}
