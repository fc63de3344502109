// Package etcd keeps svcplane's objects in etcd through the v3 API: a
// storage.Store over a clientv3.Client, a single-member etcd embedded in the
// process (StartEmbedded), and Dial for an external cluster.
//
// Writes use the guarded transactions kube-apiserver sends, and reads the
// plain ranges it sends, so any server of the etcd v3 API that accepts what
// kube-apiserver sends (etcd, kine) serves a Store:
//
//	create  If(mod(key) = 0)   Then(put)
//	update  If(mod(key) = rev) Then(put)    Else(get)
//	delete  If(mod(key) = rev) Then(delete) Else(get)
//	delete  Then(get, delete)               (rev 0: unconditional)
package etcd

import (
	"context"
	"errors"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svcplane/svcplane/internal/storage"
)

// revisionKey is read to learn the store's revision. It need not exist.
const revisionKey = "/svcplane/revision"

// Config configures a Store.
type Config struct {
	// Client reaches etcd. Required. It stays the caller's: Close does not
	// close it.
	Client *clientv3.Client
}

// Store is a storage.Store over an etcd v3 client. Keys are used verbatim.
type Store struct {
	client *clientv3.Client
	// ctx ends on Close, and with it every watch.
	ctx    context.Context
	cancel context.CancelFunc
}

var _ storage.Store = (*Store)(nil)

// New returns a Store over cfg.Client.
func New(cfg Config) (*Store, error) {
	if cfg.Client == nil {
		return nil, errors.New("etcd store: no client")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Store{client: cfg.Client, ctx: ctx, cancel: cancel}, nil
}

// Get returns the value at key.
func (s *Store) Get(ctx context.Context, key string) (storage.KV, error) {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return storage.KV{}, fmt.Errorf("get %s: %w", key, classify(err))
	}
	if len(resp.Kvs) == 0 {
		return storage.KV{}, fmt.Errorf("get %s: %w", key, storage.ErrNotFound)
	}
	return toKV(resp.Kvs[0]), nil
}

// Revision returns the revision of the store, read from the header of a
// range over a key that need not exist.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, revisionKey, clientv3.WithCountOnly())
	if err != nil {
		return 0, fmt.Errorf("read revision: %w", classify(err))
	}
	return resp.Header.Revision, nil
}

// Compact discards the history before rev.
func (s *Store) Compact(ctx context.Context, rev int64) error {
	if _, err := s.client.Compact(ctx, rev); err != nil {
		return fmt.Errorf("compact to %d: %w", rev, classify(err))
	}
	return nil
}

// Close ends every watch of the Store. The client stays open.
func (s *Store) Close() error {
	s.cancel()
	return nil
}
