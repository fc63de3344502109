package etcd

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/metadata"

	"github.com/svcplane/svcplane/internal/storage"
)

// streamMetadataKey names the gRPC metadata that puts a watch on a stream
// of its own: etcd's client shares one stream among the watches whose
// contexts carry the same metadata.
const streamMetadataKey = "svcplane-watch-stream"

// watchContext is the context a watch is opened, or a progress request
// sent, with: leader required (the watch ends when the member loses its
// leader, as kube-apiserver's do), on the stream storage.WithWatchStream
// named, else on the shared one.
func watchContext(ctx context.Context) context.Context {
	if name := storage.WatchStream(ctx); name != "" {
		// Only the name: a request's own metadata must not move its
		// progress request to another stream.
		ctx = metadata.NewOutgoingContext(ctx, metadata.Pairs(streamMetadataKey, name))
	}
	return clientv3.WithRequireLeader(ctx)
}

// RequestProgress asks etcd for a progress notice on the watches of ctx's
// stream (storage.WithWatchStream): each then learns the revision it has
// seen every change up to, even when its keys did not change. etcd answers
// only on the gRPC stream the request came on, and only once every watch of
// that stream has caught up.
func (s *Store) RequestProgress(ctx context.Context) error {
	if err := s.client.RequestProgress(watchContext(ctx)); err != nil {
		return fmt.Errorf("request watch progress: %w", err)
	}
	return nil
}
