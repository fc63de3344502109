// Package memory is an in-memory storage.Store for unit tests. It keeps
// etcd's semantics: one revision counter raised by every write, the history
// of every key until it is compacted, reads at an older revision, and watches
// that replay from an older revision. It passes the suite in storagetest.
//
// Writers never wait for watchers: a write only wakes them, and each watch
// reads the shared event log at its own pace. A watch that falls behind a
// compaction ends with storage.ErrCompacted, as it would on etcd.
package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

// errClosed answers every call after Close.
var errClosed = errors.New("memory store is closed")

// Config configures a Store.
type Config struct {
	// ProgressNotifyInterval, when positive, sends a progress notice this
	// often to every watch that has nothing else to send.
	ProgressNotifyInterval time.Duration
}

// Store is an in-memory storage.Store. The zero value is not usable; call New.
type Store struct {
	progress time.Duration
	done     chan struct{} // closed by Close

	mu        sync.Mutex
	rev       int64
	compacted int64              // reads before this revision fail
	keys      []string           // sorted; every key with history
	hist      map[string]history // per key, oldest first
	log       []storage.Event    // every event from compacted on, in order
	watchers  map[*watcher]struct{}
	closed    bool
}

var _ storage.Store = (*Store)(nil)

// New returns an empty Store at revision 1, as a new etcd is.
func New(cfg Config) *Store {
	return &Store{
		progress: cfg.ProgressNotifyInterval,
		done:     make(chan struct{}),
		rev:      1,
		hist:     map[string]history{},
		watchers: map[*watcher]struct{}{},
	}
}

// Get returns the value at key.
func (s *Store) Get(_ context.Context, key string) (storage.KV, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return storage.KV{}, fmt.Errorf("get %s: %w", key, errClosed)
	}
	kv, ok := s.hist[key].at(key, s.rev)
	if !ok {
		return storage.KV{}, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	return kv, nil
}

// Create writes key if it does not exist.
func (s *Store) Create(_ context.Context, key string, value []byte) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("create %s: %w", key, errClosed)
	}
	if _, ok := s.hist[key].at(key, s.rev); ok {
		return 0, fmt.Errorf("create %s: %w", key, storage.ErrExists)
	}
	return s.write(key, value, false), nil
}

// Update writes key if its ModRevision is still expectedRev. As on etcd, an
// absent key has ModRevision 0, so expectedRev 0 creates it.
func (s *Store) Update(_ context.Context, key string, value []byte, expectedRev int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("update %s: %w", key, errClosed)
	}
	if err := s.guard(key, expectedRev); err != nil {
		return 0, fmt.Errorf("update %s at revision %d: %w", key, expectedRev, err)
	}
	return s.write(key, value, false), nil
}

// Delete removes key if its ModRevision is still expectedRev, or whatever
// it is when expectedRev is 0.
func (s *Store) Delete(_ context.Context, key string, expectedRev int64) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("delete %s: %w", key, errClosed)
	}
	cur, ok := s.hist[key].at(key, s.rev)
	if !ok {
		return 0, fmt.Errorf("delete %s: %w", key, storage.ErrNotFound)
	}
	if expectedRev != 0 && cur.ModRevision != expectedRev {
		return 0, fmt.Errorf("delete %s at revision %d: %w", key, expectedRev, storage.ErrConflict)
	}
	return s.write(key, nil, true), nil
}

// guard checks that key's ModRevision (0 when absent) is expectedRev.
func (s *Store) guard(key string, expectedRev int64) error {
	cur, ok := s.hist[key].at(key, s.rev)
	switch {
	case cur.ModRevision == expectedRev:
		return nil
	case !ok:
		return storage.ErrNotFound
	default:
		return storage.ErrConflict
	}
}

// write records a put (or a delete) of key at the next revision, logs the
// event and wakes the watchers of key. s.mu must be held.
func (s *Store) write(key string, value []byte, deleted bool) int64 {
	prev, existed := s.hist[key].at(key, s.rev)
	s.rev++
	if _, known := s.hist[key]; !known {
		i, _ := slices.BinarySearch(s.keys, key)
		s.keys = slices.Insert(s.keys, i, key)
	}
	s.hist[key] = append(s.hist[key], version{rev: s.rev, value: bytes.Clone(value), deleted: deleted})
	ev := storage.Event{KV: storage.KV{Key: key, ModRevision: s.rev}, Created: !existed && !deleted}
	if deleted {
		ev.Type = storage.EventDelete
	} else {
		ev.KV.Value = bytes.Clone(value)
	}
	if existed {
		ev.Prev = &prev
	}
	s.log = append(s.log, ev)
	s.wake(key)
	return s.rev
}

// Revision returns the revision of the store.
func (s *Store) Revision(context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, fmt.Errorf("read revision: %w", errClosed)
	}
	return s.rev, nil
}

// Close ends every watch; later calls fail.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.done)
	}
	return nil
}
