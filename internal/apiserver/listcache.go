package apiserver

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/watchcache"
)

// listRead says how fresh a list must be, and so where it is answered
// from, as kube-apiserver decides:
//   - resourceVersion unset: consistent, from the watch cache once it is
//     proven current (storage's revision read, then a progress notice or
//     the events up to it), else from storage;
//   - resourceVersion=0, or N with NotOlderThan: from the watch cache,
//     once it has reached N;
//   - Exact (or N with a limit and no match, the legacy form): from
//     storage, at that revision.
//
// A continued list is read at its first page's revision: from the cache
// while its ring still holds the changes since, else from storage.
type listRead struct {
	consistent   bool
	notOlderThan int64
	exact        bool
}

func (h *resource) readList(ctx context.Context, opts objstore.ListOptions, rd listRead) (objstore.ListResult, error) {
	if h.cache == nil || rd.exact {
		return h.store.List(ctx, opts)
	}
	if opts.Continue != "" {
		return h.continueFromCache(ctx, opts)
	}
	least := rd.notOlderThan
	if rd.consistent {
		rev, err := h.store.Revision(ctx)
		if err != nil {
			return objstore.ListResult{}, err
		}
		least = rev
	}
	if err := h.cache.WaitFresh(ctx, least); err != nil {
		if rd.consistent && errors.Is(err, watchcache.ErrNotFresh) {
			h.log.Warn("watch cache behind storage: list from storage", "revision", least)
			return h.store.List(ctx, opts)
		}
		return objstore.ListResult{}, h.staleError(err, least)
	}
	return h.listCache(ctx, opts, 0, h.store.Prefix(opts.Namespace))
}

// continueFromCache reads the next page of a paged list at its first
// page's revision.
func (h *resource) continueFromCache(ctx context.Context, opts objstore.ListOptions) (objstore.ListResult, error) {
	rev, start, err := objstore.DecodeContinue(opts.Continue)
	if err != nil {
		return objstore.ListResult{}, err
	}
	prefix := h.store.Prefix(opts.Namespace)
	res, err := h.listCacheFrom(ctx, opts, rev, prefix, prefix+start)
	if errors.Is(err, watchcache.ErrRevisionNotHeld) {
		return h.store.List(ctx, opts)
	}
	return res, err
}

func (h *resource) listCache(ctx context.Context, opts objstore.ListOptions, rev int64, prefix string) (objstore.ListResult, error) {
	return h.listCacheFrom(ctx, opts, rev, prefix, prefix)
}

func (h *resource) listCacheFrom(ctx context.Context, opts objstore.ListOptions, rev int64, prefix, start string) (objstore.ListResult, error) {
	res, err := h.cache.List(ctx, watchcache.ListOptions{Prefix: prefix, Start: start, Revision: rev, Limit: opts.Limit, Match: opts.Match})
	if err != nil {
		return objstore.ListResult{}, err
	}
	out := objstore.ListResult{Items: res.Items, Revision: res.Revision}
	if res.Next != "" {
		out.Continue = objstore.EncodeContinue(res.Revision, res.Next, prefix)
	}
	return out, nil
}

// staleError is the answer when the cache did not reach a revision: the
// client asked for one storage has not reached either (kube-apiserver's
// 504 "Too large resource version"), or its request ended.
func (h *resource) staleError(err error, rev int64) error {
	if errors.Is(err, watchcache.ErrNotFresh) {
		return apierrors.NewTimeoutError(fmt.Sprintf("Too large resource version: %d, current: %d", rev, h.cache.Revision()), 1)
	}
	return apierrors.NewTimeoutError(err.Error(), 1)
}

// checkResourceVersionMatch applies upstream's list options validation of
// resourceVersionMatch.
func checkResourceVersionMatch(rv, match, cont string) error {
	if match == "" {
		return nil
	}
	p := field.NewPath("resourceVersionMatch")
	var errs field.ErrorList
	if rv == "" {
		errs = append(errs, field.Forbidden(p, "resourceVersionMatch is forbidden unless resourceVersion is provided"))
	}
	if cont != "" {
		errs = append(errs, field.Forbidden(p, "resourceVersionMatch is forbidden when continue is provided"))
	}
	exact, notOlder := string(metav1.ResourceVersionMatchExact), string(metav1.ResourceVersionMatchNotOlderThan)
	if match != exact && match != notOlder {
		errs = append(errs, field.NotSupported(p, match, []string{exact, notOlder, ""}))
	}
	if match == exact && rv == "0" {
		errs = append(errs, field.Forbidden(p, `resourceVersionMatch "exact" is forbidden for resourceVersion "0"`))
	}
	if len(errs) == 0 {
		return nil
	}
	return apierrors.NewInvalid(metav1.SchemeGroupVersion.WithKind("ListOptions").GroupKind(), "", errs)
}
