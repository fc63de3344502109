package claim

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
)

// listPage is how many claims one storage read fetches.
const listPage = 1000

// claimStore writes and reads claim keys, each call bounded by timeout.
type claimStore struct {
	store   storage.Store
	server  string
	timeout time.Duration
	now     func() time.Time
}

// create claims key for holder; an error wrapping storage.ErrExists if
// the key is already claimed.
func (s *claimStore) create(ctx context.Context, key, holder string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	value, err := json.Marshal(Record{Holder: holder, Server: s.server, Time: s.now().UTC()})
	if err != nil {
		return err
	}
	_, err = s.store.Create(ctx, key, value)
	return err
}

// release deletes key if holder holds it. It reports whether the key is
// gone: false when another holder has it.
func (s *claimStore) release(ctx context.Context, key, holder string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	kv, err := s.store.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	if rec, err := decodeRecord(kv.Value); err != nil || rec.Holder != holder {
		return false, nil // not ours; an unreadable claim is left to the sweep
	}
	return s.remove(ctx, key, kv.ModRevision)
}

// remove deletes key if it is still at rev. It reports whether the key is
// gone: false when it was claimed again since.
func (s *claimStore) remove(ctx context.Context, key string, rev int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	_, err := s.store.Delete(ctx, key, rev)
	switch {
	case err == nil, errors.Is(err, storage.ErrNotFound):
		return true, nil
	case errors.Is(err, storage.ErrConflict):
		return false, nil
	}
	return false, err
}

// list reads every claim at one revision, and returns that revision.
func (s *claimStore) list(ctx context.Context) (map[string]storage.KV, int64, error) {
	claims := map[string]storage.KV{}
	opts := storage.ListOptions{Limit: listPage}
	for {
		page, err := s.page(ctx, opts)
		if err != nil {
			return nil, 0, err
		}
		for _, kv := range page.KVs {
			claims[kv.Key] = kv
		}
		opts.Revision = page.Revision
		if !page.More || len(page.KVs) == 0 {
			return claims, page.Revision, nil
		}
		opts.StartKey = page.KVs[len(page.KVs)-1].Key + "\x00"
	}
}

func (s *claimStore) page(ctx context.Context, opts storage.ListOptions) (storage.ListResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return s.store.List(ctx, Prefix, opts)
}
