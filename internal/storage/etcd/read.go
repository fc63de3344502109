package etcd

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svcplane/svcplane/internal/storage"
)

// List reads the keys under prefix, from opts.StartKey when set, at
// opts.Revision when set, at most opts.Limit of them when set.
func (s *Store) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	start := prefix
	if opts.StartKey != "" {
		if !strings.HasPrefix(opts.StartKey, prefix) {
			return storage.ListResult{}, fmt.Errorf("list %s: start key %s is outside the prefix", prefix, opts.StartKey)
		}
		start = opts.StartKey
	}
	resp, err := s.client.Get(ctx, start, listOptions(prefix, opts)...)
	if err != nil {
		return storage.ListResult{}, fmt.Errorf("list %s at revision %d: %w", prefix, opts.Revision, classify(err))
	}
	kvs := make([]storage.KV, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		kvs = append(kvs, toKV(kv))
	}
	return storage.ListResult{KVs: kvs, Revision: readRevision(resp, opts), More: resp.More}, nil
}

// readRevision is the revision a range was read at: the one asked for, or
// else the header's. (etcd's header always carries the newest revision.)
func readRevision(resp *clientv3.GetResponse, opts storage.ListOptions) int64 {
	if opts.Revision > 0 {
		return opts.Revision
	}
	return resp.Header.Revision
}

func listOptions(prefix string, opts storage.ListOptions) []clientv3.OpOption {
	ops := []clientv3.OpOption{clientv3.WithRange(clientv3.GetPrefixRangeEnd(prefix))}
	if opts.Revision > 0 {
		ops = append(ops, clientv3.WithRev(opts.Revision))
	}
	if opts.Limit > 0 {
		ops = append(ops, clientv3.WithLimit(opts.Limit))
	}
	return ops
}

func toKV(kv *mvccpb.KeyValue) storage.KV {
	return storage.KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision}
}

// classify maps etcd's errors about revisions to the storage error kinds and
// returns any other error as it is. Servers other than etcd may send the
// text alone, so the text is matched too.
func classify(err error) error {
	switch {
	case errors.Is(err, rpctypes.ErrCompacted),
		strings.Contains(err.Error(), "required revision has been compacted"):
		return fmt.Errorf("%w: %w", storage.ErrCompacted, err)
	case errors.Is(err, rpctypes.ErrFutureRev),
		strings.Contains(err.Error(), "required revision is a future revision"):
		return fmt.Errorf("%w: %w", storage.ErrFutureRevision, err)
	case errors.Is(err, rpctypes.ErrNoSpace),
		strings.Contains(err.Error(), "database space exceeded"):
		return fmt.Errorf("%w: %w", storage.ErrNoSpace, err)
	}
	return err
}
