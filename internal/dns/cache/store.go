package cache

import (
	"hash/maphash"
	"sync"
	"time"
)

// shardCount is the number of shards of a large store, as in CoreDNS.
const shardCount = 256

// store is a bounded map of entries, split in shards with a lock each. A
// full shard evicts a random entry, as CoreDNS's cache does.
type store struct {
	seed   maphash.Seed
	shards []*shard
}

type shard struct {
	mu    sync.RWMutex
	items map[key]*entry
	size  int
}

// newStore returns a store of about capacity entries: 256 shards of
// capacity/256 when that is at least 4 entries a shard (so 9984 gives
// CoreDNS's 256 × 39), else one shard of capacity.
func newStore(capacity int) *store {
	n := 1
	if capacity/shardCount >= 4 {
		n = shardCount
	}
	s := &store{seed: maphash.MakeSeed(), shards: make([]*shard, n)}
	for i := range s.shards {
		s.shards[i] = &shard{items: make(map[key]*entry), size: capacity / n}
	}
	return s
}

func (s *store) shard(k key) *shard {
	if len(s.shards) == 1 {
		return s.shards[0]
	}
	h := maphash.String(s.seed, k.name) + uint64(k.qtype)
	return s.shards[h%uint64(len(s.shards))]
}

// live returns the entry under k if it has not expired at now; an expired
// entry is removed.
func (s *store) live(k key, now time.Time) *entry {
	sh := s.shard(k)
	sh.mu.RLock()
	e := sh.items[k]
	sh.mu.RUnlock()
	if e == nil {
		return nil
	}
	if e.remaining(now) > 0 {
		return e
	}
	sh.mu.Lock()
	if sh.items[k] == e {
		delete(sh.items, k)
	}
	sh.mu.Unlock()
	return nil
}

// add stores e under k and says whether another entry was evicted to make
// room.
func (s *store) add(k key, e *entry) bool {
	sh := s.shard(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	evicted := false
	if _, ok := sh.items[k]; !ok && len(sh.items) >= sh.size {
		for victim := range sh.items { // map order is random
			delete(sh.items, victim)
			evicted = true
			break
		}
	}
	sh.items[k] = e
	return evicted
}

func (s *store) remove(k key) {
	sh := s.shard(k)
	sh.mu.Lock()
	delete(sh.items, k)
	sh.mu.Unlock()
}

func (s *store) len() int {
	n := 0
	for _, sh := range s.shards {
		sh.mu.RLock()
		n += len(sh.items)
		sh.mu.RUnlock()
	}
	return n
}
