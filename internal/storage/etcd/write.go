package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svcplane/svcplane/internal/storage"
)

// Create writes key if it does not exist.
func (s *Store) Create(ctx context.Context, key string, value []byte) (int64, error) {
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(value))).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("create %s: %w", key, classify(err))
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("create %s: %w", key, storage.ErrExists)
	}
	return resp.Header.Revision, nil
}

// Update writes key if its ModRevision is still expectedRev.
func (s *Store) Update(ctx context.Context, key string, value []byte, expectedRev int64) (int64, error) {
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", expectedRev)).
		Then(clientv3.OpPut(key, string(value))).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("update %s: %w", key, classify(err))
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("update %s at revision %d: %w", key, expectedRev, guardFailure(resp))
	}
	return resp.Header.Revision, nil
}

// Delete removes key if its ModRevision is still expectedRev, or whatever
// it is when expectedRev is 0.
func (s *Store) Delete(ctx context.Context, key string, expectedRev int64) (int64, error) {
	if expectedRev == 0 {
		return s.deleteAny(ctx, key)
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", expectedRev)).
		Then(clientv3.OpDelete(key)).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", key, classify(err))
	}
	if !resp.Succeeded {
		return 0, fmt.Errorf("delete %s at revision %d: %w", key, expectedRev, guardFailure(resp))
	}
	return resp.Header.Revision, nil
}

// deleteAny removes key whatever its revision, in the unguarded shape
// kube-apiserver also sends: one transaction that reads, then deletes.
func (s *Store) deleteAny(ctx context.Context, key string) (int64, error) {
	resp, err := s.client.Txn(ctx).
		Then(clientv3.OpGet(key), clientv3.OpDelete(key)).
		Commit()
	if err != nil {
		return 0, fmt.Errorf("delete %s: %w", key, classify(err))
	}
	if len(resp.Responses) < 1 || len(resp.Responses[0].GetResponseRange().GetKvs()) == 0 {
		return 0, fmt.Errorf("delete %s: %w", key, storage.ErrNotFound)
	}
	return resp.Header.Revision, nil
}

// guardFailure tells a key written since (ErrConflict) from a key gone
// (ErrNotFound), by the get of the Else branch.
func guardFailure(resp *clientv3.TxnResponse) error {
	if len(resp.Responses) == 0 {
		return storage.ErrNotFound
	}
	if len(resp.Responses[0].GetResponseRange().GetKvs()) == 0 {
		return storage.ErrNotFound
	}
	return storage.ErrConflict
}
