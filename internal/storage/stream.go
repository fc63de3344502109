package storage

import "context"

type watchStreamKey struct{}

// WithWatchStream marks ctx so that the watches opened with it, and the
// progress requests made with it, go over a watch stream of their own
// named name. etcd answers a progress request on a stream only when every
// watch on it has caught up and none starts after etcd's revision (a watch
// from "now" does until the next write), so a watch cache that shared the
// stream with other watches could wait for a write that never comes.
func WithWatchStream(ctx context.Context, name string) context.Context {
	return context.WithValue(ctx, watchStreamKey{}, name)
}

// WatchStream returns the stream name WithWatchStream put in ctx, or "".
func WatchStream(ctx context.Context) string {
	name, _ := ctx.Value(watchStreamKey{}).(string)
	return name
}

// ProgressRequester is a store whose watches can be asked to report the
// revision they have reached (etcd's RequestProgress): a watch cache whose
// resource did not change learns that it is current. Stores that wrap
// another must pass it on.
type ProgressRequester interface {
	RequestProgress(ctx context.Context) error
}
