// Package storage defines the small key-value interface the API server keeps
// its objects in, and the error kinds every implementation returns.
//
// The interface is shaped after what kube-apiserver asks of etcd: guarded
// create, update and delete transactions on single keys, ranges over a prefix
// at a revision, and a watch from a revision. Revisions are etcd's: one
// counter for the whole store, raised by every write. An object's
// resourceVersion is the revision of its last write (etcd's ModRevision).
//
// Implementations: etcd (a client of an external cluster or of an embedded
// member) and memory (for unit tests). Both pass the suite in storagetest.
package storage

import (
	"context"
	"errors"
)

// Error kinds. Implementations wrap them; test with errors.Is.
var (
	// ErrNotFound: the key does not exist.
	ErrNotFound = errors.New("key not found")
	// ErrExists: Create found the key already present.
	ErrExists = errors.New("key already exists")
	// ErrConflict: the guard of Update or Delete failed; the key was written
	// since the revision the caller read.
	ErrConflict = errors.New("revision conflict")
	// ErrCompacted: the revision asked for has been compacted away.
	ErrCompacted = errors.New("revision compacted")
	// ErrFutureRevision: the revision asked for is newer than the store's.
	ErrFutureRevision = errors.New("revision is in the future")
	// ErrNoSpace: the store refused a write for lack of space (etcd's
	// NOSPACE alarm, or a data directory under its free-space reserve).
	// Reads still work; writes resume when space returns.
	ErrNoSpace = errors.New("insufficient storage")
)

// KV is one stored value with the revision of its last write.
type KV struct {
	Key   string
	Value []byte
	// ModRevision is the revision of the write that produced Value.
	ModRevision int64
}

// ListOptions narrow a List.
type ListOptions struct {
	// Revision reads the range as it was at that revision; 0 reads the newest.
	Revision int64
	// StartKey, when set, starts the range at this key (inclusive) instead of
	// at the prefix. Used to continue a paged list.
	StartKey string
	// Limit caps the number of KVs returned; 0 means no limit.
	Limit int64
}

// ListResult is one page of a range.
type ListResult struct {
	KVs []KV
	// Revision is the store revision the range was read at: ListOptions.
	// Revision when set (the next page of a paged list reads at the
	// Revision of the first), else the newest.
	Revision int64
	// More says keys remain after the last returned one.
	More bool
}

// EventType says what happened to a key.
type EventType int

const (
	EventPut EventType = iota
	EventDelete
)

func (t EventType) String() string {
	if t == EventDelete {
		return "DELETE"
	}
	return "PUT"
}

// Event is one change seen by a watch.
type Event struct {
	Type EventType
	// KV holds the new value for a put. For a delete it holds the key, no
	// value, and the revision of the delete.
	KV KV
	// Prev is the value before the change, when there was one.
	Prev *KV
	// Created says a put created the key.
	Created bool
}

// WatchResponse carries the events of one revision or more, or a progress
// notice (no events, Revision only), or a terminal error.
type WatchResponse struct {
	Events []Event
	// Revision is the store revision this response brings the watcher up to.
	Revision int64
	// Err ends the watch; ErrCompacted when the start revision is gone.
	Err error
}

// Store is the storage the API server keeps objects in.
type Store interface {
	// Get returns the value at key, or ErrNotFound.
	Get(ctx context.Context, key string) (KV, error)
	// List returns the keys under prefix in key order.
	List(ctx context.Context, prefix string, opts ListOptions) (ListResult, error)
	// Create writes key only if it does not exist; else ErrExists.
	Create(ctx context.Context, key string, value []byte) (rev int64, err error)
	// Update writes key only if its ModRevision is still expectedRev; else
	// ErrConflict (or ErrNotFound when the key is gone). As in etcd, an absent
	// key has ModRevision 0: expectedRev 0 creates the key if it is absent
	// and answers ErrConflict if it exists.
	Update(ctx context.Context, key string, value []byte, expectedRev int64) (rev int64, err error)
	// Delete removes key only if its ModRevision is still expectedRev
	// (0: whatever it is); else ErrConflict or ErrNotFound. It returns the
	// revision of the delete.
	Delete(ctx context.Context, key string, expectedRev int64) (rev int64, err error)
	// Watch streams the changes under prefix made after revision fromRev
	// (0: from now, the moment of the call). A fromRev already compacted
	// gives one response with ErrCompacted; a fromRev in the future waits
	// for it. The channel closes when ctx ends or after an Err.
	Watch(ctx context.Context, prefix string, fromRev int64) <-chan WatchResponse
	// Revision returns the current revision of the store.
	Revision(ctx context.Context) (int64, error)
	// Compact discards history before rev. A rev already compacted answers
	// ErrCompacted, one newer than the store ErrFutureRevision.
	Compact(ctx context.Context, rev int64) error
	// Close releases the store's resources.
	Close() error
}
