package watchcache

import (
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
)

// Event is one change to one object, decoded once and shared by every
// watcher: nobody may modify Object or Prev.
type Event struct {
	Type watch.EventType
	// Object is the new state; for a delete, the last state with the
	// revision of the delete as its resourceVersion.
	Object runtime.Object
	// Prev is the state before the change (nil for an add).
	Prev     runtime.Object
	Revision int64
	Key      string
	// Err is set on an Error event: the watch ends after it.
	Err error

	once    sync.Once
	encoded []byte
	encErr  error
}

// Encoded returns Object encoded by enc, computed once for all watchers
// that share this event and the same encoder.
func (e *Event) Encoded(enc func(runtime.Object) ([]byte, error)) ([]byte, error) {
	e.once.Do(func() { e.encoded, e.encErr = enc(e.Object) })
	return e.encoded, e.encErr
}
