package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/watchcache"
)

// stream writes watch events to one client.
type stream struct {
	w       http.ResponseWriter
	flusher http.Flusher
	h       *resource
	wr      watchRequest
	enc     *json.Encoder
	columns bool
}

func newStream(w http.ResponseWriter, h *resource, wr watchRequest) *stream {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, apierrors.NewInternalError(errNoFlush))
		return nil
	}
	if wr.format.wire == wireProtobuf {
		w.Header().Set("Content-Type", protobufType+";stream=watch")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Transfer-Encoding", "chunked")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	return &stream{w: w, flusher: flusher, h: h, wr: wr, enc: json.NewEncoder(w), columns: true}
}

var errNoFlush = errors.New("the response writer cannot flush")

// follow sends live events until the watch ends, or the server drains:
// the stream then ends cleanly, as a watch that timed out.
func (s *stream) follow(ctx context.Context, watcher *watchcache.Watcher) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.h.srv.draining:
			return
		case ev, ok := <-watcher.ResultChan():
			if !ok || !s.sendLive(ev) {
				return
			}
		}
	}
}

func (s *stream) sendLive(ev *watchcache.Event) bool {
	switch ev.Type {
	case watch.Bookmark:
		return s.sendBookmark(ev.Revision, false)
	case watch.Error:
		s.writeObject(watch.Error, toStatus(apierrors.NewResourceExpired("The resourceVersion for the provided watch is too old.")))
		return false
	}
	typ, obj, ok := filterEvent(ev, s.wr.match)
	if !ok {
		return true
	}
	if typ == ev.Type && obj == ev.Object {
		return s.send(ev)
	}
	return s.send(&watchcache.Event{Type: typ, Object: obj})
}

// filterEvent applies a selector to an event: an object that starts to
// match is ADDED, one that stops matching is DELETED.
func filterEvent(ev *watchcache.Event, match func(runtime.Object) bool) (watch.EventType, runtime.Object, bool) {
	if match == nil {
		return ev.Type, ev.Object, true
	}
	cur := match(ev.Object)
	if ev.Type != watch.Modified {
		return ev.Type, ev.Object, cur
	}
	prev := ev.Prev != nil && match(ev.Prev)
	switch {
	case cur && prev:
		return watch.Modified, ev.Object, true
	case cur:
		return watch.Added, ev.Object, true
	case prev:
		return watch.Deleted, ev.Object, true
	}
	return "", nil, false
}

func (s *stream) send(ev *watchcache.Event) bool {
	if s.wr.format.shape == shapeTable {
		t, err := s.h.table([]runtime.Object{ev.Object}, s.wr.includeObject, s.columns)
		if err != nil {
			return false
		}
		s.columns = false
		t.ResourceVersion = accessor(ev.Object).GetResourceVersion()
		return s.write(ev.Type, mustJSON(t))
	}
	data, err := ev.Encoded(s.cacheSlot(), s.encode)
	return err == nil && s.write(ev.Type, data)
}

// cacheSlot names the stream's format among an event's cached encodings.
func (s *stream) cacheSlot() int {
	slot := 0
	if s.wr.format.wire == wireProtobuf {
		slot = 1
	}
	if s.wr.format.shape == shapePartial {
		slot += 2
	}
	return slot
}

// encode writes an object in the stream's format.
func (s *stream) encode(obj runtime.Object) ([]byte, error) {
	if s.wr.format.shape == shapePartial {
		obj = partialOf(obj)
	}
	if s.wr.format.wire == wireProtobuf {
		return s.h.srv.codec.EncodeProtobuf(obj)
	}
	return json.Marshal(obj)
}

// writeObject sends one event whose object is not shared with others.
func (s *stream) writeObject(typ watch.EventType, obj runtime.Object) bool {
	if _, isStatus := obj.(*metav1.Status); !isStatus && s.wr.format.shape == shapePartial {
		obj = partialOf(obj)
	}
	if s.wr.format.wire != wireProtobuf {
		return s.write(typ, mustJSON(obj))
	}
	data, err := s.h.srv.codec.EncodeProtobuf(obj)
	return err == nil && s.write(typ, data)
}

// sendBookmark sends a bookmark at rev; end marks the end of the initial
// events of a WatchList request.
func (s *stream) sendBookmark(rev int64, end bool) bool {
	obj := s.h.def.New()
	obj.GetObjectKind().SetGroupVersionKind(s.h.def.GroupVersionKind())
	objstore.SetResourceVersion(obj, rev)
	if end {
		accessor(obj).SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	return s.writeObject(watch.Bookmark, obj)
}

// write sends one event whose object is already encoded in the stream's
// format.
func (s *stream) write(typ watch.EventType, obj []byte) bool {
	if s.wr.format.wire == wireProtobuf {
		frame, err := s.h.srv.codec.EncodeWatchFrame(string(typ), obj)
		if err != nil {
			return false
		}
		if _, err := s.w.Write(frame); err != nil {
			return false
		}
	} else if err := s.enc.Encode(watchEvent{Type: typ, Object: obj}); err != nil {
		return false
	}
	s.flusher.Flush()
	return true
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		data, _ = json.Marshal(toStatus(apierrors.NewInternalError(err)))
	}
	return data
}
