package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// RequestProgress asks etcd for a progress notice on the Store's watches:
// each then learns the revision it has seen every change up to, even when
// its keys did not change. (The watches share the client's stream of
// leader-requiring watches, which is the stream asked.)
func (s *Store) RequestProgress(ctx context.Context) error {
	if err := s.client.RequestProgress(clientv3.WithRequireLeader(ctx)); err != nil {
		return fmt.Errorf("request watch progress: %w", err)
	}
	return nil
}
