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

	encodings [encodings]encoding
}

// encodings is how many formats an event caches: JSON and protobuf, each
// of the object or of its metadata.
const encodings = 4

type encoding struct {
	once sync.Once
	data []byte
	err  error
}

// Encoded returns Object encoded by enc, computed once for all watchers
// that share this event and the same format (0 <= format < 4).
func (e *Event) Encoded(format int, enc func(runtime.Object) ([]byte, error)) ([]byte, error) {
	c := &e.encodings[format]
	c.once.Do(func() { c.data, c.err = enc(e.Object) })
	return c.data, c.err
}
