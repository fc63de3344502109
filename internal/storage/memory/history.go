package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/svcplane/svcplane/internal/storage"
)

// version is one write of a key: a value, or a delete.
type version struct {
	rev     int64
	value   []byte
	deleted bool
}

// history is the versions of one key, oldest first.
type history []version

// at returns the key's value as of rev. An absent key gives ok false and a
// zero KV (ModRevision 0, as etcd has it).
func (h history) at(key string, rev int64) (kv storage.KV, ok bool) {
	i := sort.Search(len(h), func(i int) bool { return h[i].rev > rev }) - 1
	if i < 0 || h[i].deleted {
		return storage.KV{}, false
	}
	return storage.KV{Key: key, Value: bytes.Clone(h[i].value), ModRevision: h[i].rev}, true
}

// compact drops the versions no read at rev or later can see: all before
// the one current at rev, and that one too when it is a delete.
func (h history) compact(rev int64) history {
	i := sort.Search(len(h), func(i int) bool { return h[i].rev > rev })
	if i > 0 && !h[i-1].deleted {
		i--
	}
	return slices.Clone(h[i:])
}

// List returns the keys under prefix as they were at opts.Revision.
func (s *Store) List(_ context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev, err := s.readable(opts.Revision)
	if err != nil {
		return storage.ListResult{}, fmt.Errorf("list %s at revision %d: %w", prefix, opts.Revision, err)
	}
	start := prefix
	if opts.StartKey != "" {
		if !strings.HasPrefix(opts.StartKey, prefix) {
			return storage.ListResult{}, fmt.Errorf("list %s: start key %s is outside the prefix", prefix, opts.StartKey)
		}
		start = opts.StartKey
	}
	res := storage.ListResult{Revision: rev}
	i, _ := slices.BinarySearch(s.keys, start)
	for ; i < len(s.keys) && strings.HasPrefix(s.keys[i], prefix); i++ {
		kv, ok := s.hist[s.keys[i]].at(s.keys[i], rev)
		if !ok {
			continue
		}
		if opts.Limit > 0 && int64(len(res.KVs)) == opts.Limit {
			res.More = true
			break
		}
		res.KVs = append(res.KVs, kv)
	}
	return res, nil
}

// readable resolves the revision of a read (0: the newest) and checks that
// it is neither compacted nor in the future. s.mu must be held.
func (s *Store) readable(rev int64) (int64, error) {
	switch {
	case s.closed:
		return 0, errClosed
	case rev == 0:
		return s.rev, nil
	case rev > s.rev:
		return 0, storage.ErrFutureRevision
	case rev < s.compacted:
		return 0, storage.ErrCompacted
	}
	return rev, nil
}

// Compact discards the history before rev. As on etcd, compacting to a
// revision already compacted fails with ErrCompacted.
func (s *Store) Compact(_ context.Context, rev int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("compact to %d: %w", rev, errClosed)
	case rev > s.rev:
		return fmt.Errorf("compact to %d: %w", rev, storage.ErrFutureRevision)
	case rev <= s.compacted:
		return fmt.Errorf("compact to %d: %w", rev, storage.ErrCompacted)
	}
	for key, h := range s.hist {
		if h = h.compact(rev); len(h) > 0 {
			s.hist[key] = h
		} else {
			delete(s.hist, key)
		}
	}
	s.keys = slices.DeleteFunc(s.keys, func(k string) bool { _, ok := s.hist[k]; return !ok })
	first := sort.Search(len(s.log), func(i int) bool { return s.log[i].KV.ModRevision >= rev })
	s.log = slices.Clone(s.log[first:])
	s.compacted = rev
	return nil
}
