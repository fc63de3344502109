package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/watchcache"
)

// watchRequest is what a watch asks for.
type watchRequest struct {
	rv               int64
	sendInitial      bool
	consistent       bool
	initialEventsEnd bool
	bookmarks        bool
	timeout          time.Duration
	match            func(runtime.Object) bool
	format           format
	includeObject    string
}

func (h *resource) parseWatch(r *http.Request) (watchRequest, error) {
	q := r.URL.Query()
	var wr watchRequest
	var err error
	if wr.format, err = negotiate(r); err != nil {
		return wr, err
	}
	if wr.match, err = h.matcher(q); err != nil {
		return wr, err
	}
	rvText := q.Get("resourceVersion")
	if wr.rv, err = objstore.ParseResourceVersion(rvText); err != nil {
		return wr, err
	}
	wr.bookmarks = q.Get("allowWatchBookmarks") == "true"
	wr.sendInitial = rvText == "" || rvText == "0"
	wr.consistent = rvText == ""
	if err := wr.readSendInitialEvents(q); err != nil {
		return wr, err
	}
	wr.timeout = watchTimeout(q)
	wr.includeObject = q.Get("includeObject")
	return wr, nil
}

// readSendInitialEvents applies the WatchList parameters: initial events
// end with a bookmark annotated k8s.io/initial-events-end.
func (wr *watchRequest) readSendInitialEvents(q url.Values) error {
	s := q.Get("sendInitialEvents")
	if s == "" {
		return nil
	}
	send, err := strconv.ParseBool(s)
	if err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("invalid sendInitialEvents %q", s))
	}
	if q.Get("resourceVersionMatch") != string(metav1.ResourceVersionMatchNotOlderThan) {
		return apierrors.NewInvalid(metav1.SchemeGroupVersion.WithKind("ListOptions").GroupKind(), "",
			fieldErrors("sendInitialEvents", s, "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"))
	}
	if send && !wr.bookmarks {
		return apierrors.NewInvalid(metav1.SchemeGroupVersion.WithKind("ListOptions").GroupKind(), "",
			fieldErrors("allowWatchBookmarks", "false", "allowWatchBookmarks must be set to true when sendInitialEvents is set"))
	}
	wr.sendInitial, wr.initialEventsEnd = send, send
	return nil
}

func watchTimeout(q url.Values) time.Duration {
	if s := q.Get("timeoutSeconds"); s != "" {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	// As upstream's default: between 30 and 60 minutes.
	return 30*time.Minute + time.Duration(rand.Int64N(int64(30*time.Minute)))
}

func (h *resource) watch(w http.ResponseWriter, r *http.Request, info requestInfo) {
	wr, err := h.parseWatch(r)
	if err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), wr.timeout)
	defer cancel()
	initial, from, err := h.initialEvents(ctx, info.Namespace, wr)
	if err != nil && !apierrors.IsResourceExpired(err) {
		writeError(w, err)
		return
	}
	if err != nil {
		// As upstream: a watch from a compacted revision is answered with
		// an ERROR event carrying 410 Gone.
		if s := newStream(w, h, wr); s != nil {
			s.writeObject(watch.Error, toStatus(apierrors.NewResourceExpired("The resourceVersion for the provided watch is too old.")))
		}
		return
	}
	watcher, err := h.cache.Watch(ctx, watchcache.WatchOptions{From: from, Prefix: h.store.Prefix(info.Namespace), Bookmarks: wr.bookmarks})
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	defer watcher.Stop()
	s := newStream(w, h, wr)
	if s == nil {
		return
	}
	for _, ev := range initial {
		if !s.send(ev) {
			return
		}
	}
	if wr.initialEventsEnd && !s.sendBookmark(from, true) {
		return
	}
	s.follow(ctx, watcher)
}

// initialEvents lists the current objects from the watch cache when the
// watch starts with them, and returns the revision the live events
// follow. A watch from a revision the cache holds touches no storage, so
// watches keep answering while storage is slow.
func (h *resource) initialEvents(ctx context.Context, ns string, wr watchRequest) ([]*watchcache.Event, int64, error) {
	if !wr.sendInitial {
		return nil, wr.rv, h.checkWatchFrom(ctx, wr.rv)
	}
	if err := h.waitInitial(ctx, wr); err != nil {
		return nil, 0, err
	}
	prefix := h.store.Prefix(ns)
	res, err := h.cache.List(ctx, watchcache.ListOptions{Prefix: prefix, Match: wr.match})
	if err != nil {
		return nil, 0, apierrors.NewTimeoutError(err.Error(), 1)
	}
	events := make([]*watchcache.Event, 0, len(res.Items))
	for _, obj := range res.Items {
		events = append(events, &watchcache.Event{Type: watch.Added, Object: obj})
	}
	return events, res.Revision, nil
}

// waitInitial waits until the cache is fresh enough for the initial
// events: at least the asked revision; for a watch with no revision,
// storage's current one when storage answers (else the cache's state,
// as kube-apiserver serves such watches from its cache).
func (h *resource) waitInitial(ctx context.Context, wr watchRequest) error {
	if wr.rv > 0 {
		if err := h.cache.WaitFresh(ctx, wr.rv); err != nil {
			return h.staleError(err, wr.rv)
		}
		return nil
	}
	if !wr.consistent {
		return nil
	}
	rev, err := h.store.Revision(ctx)
	if err == nil {
		err = h.cache.WaitFresh(ctx, rev)
	}
	if err != nil && ctx.Err() == nil {
		h.log.Warn("watch without resourceVersion: initial events from the watch cache as it is", "err", err)
	}
	return ctx.Err()
}

// checkWatchFrom refuses a watch from a revision storage has not reached
// (504) or has compacted (410). A revision the cache holds needs no
// storage read.
func (h *resource) checkWatchFrom(ctx context.Context, rv int64) error {
	if h.cache.Holds(rv) {
		return nil
	}
	if err := h.checkFuture(ctx, rv); err != nil {
		return err
	}
	return h.store.CheckRevision(ctx, rv)
}

// checkFuture refuses a watch from a revision storage has not reached.
func (h *resource) checkFuture(ctx context.Context, rv int64) error {
	if rv <= h.cache.Revision() {
		return nil
	}
	cur, err := h.srv.cfg.Storage.Revision(ctx)
	if err != nil {
		return apierrors.NewInternalError(err)
	}
	if rv > cur {
		return apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", rv, cur), 1)
	}
	return nil
}

// watchEvent is one event on the wire.
type watchEvent struct {
	Type   watch.EventType `json:"type"`
	Object json.RawMessage `json:"object"`
}

func fieldErrors(name, value, msg string) field.ErrorList {
	return field.ErrorList{field.Invalid(field.NewPath(name), value, msg)}
}
