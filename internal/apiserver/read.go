package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
)

func (h *resource) get(w http.ResponseWriter, r *http.Request, info requestInfo) {
	f, err := negotiate(r)
	if err != nil {
		writeError(w, err)
		return
	}
	obj, err := h.readObject(r.Context(), info, r.URL.Query().Get("resourceVersion"))
	if err != nil {
		writeError(w, err)
		return
	}
	if info.Subresource == "scale" {
		writeError(w, apierrors.NewBadRequest("scale is served elsewhere"))
		return
	}
	switch f.shape {
	case shapeTable:
		h.writeTable(w, r, []runtime.Object{obj}, accessor(obj).GetResourceVersion(), "")
	case shapePartial:
		h.srv.writeObject(w, f, http.StatusOK, partialOf(obj))
	default:
		h.srv.writeObject(w, f, http.StatusOK, obj)
	}
}

func (h *resource) list(w http.ResponseWriter, r *http.Request, info requestInfo) {
	f, err := negotiate(r)
	if err != nil {
		writeError(w, err)
		return
	}
	q := r.URL.Query()
	opts, rd, err := h.listOptions(q, info.Namespace)
	if err != nil {
		writeError(w, err)
		return
	}
	res, err := h.readList(r.Context(), opts, rd)
	if err != nil {
		writeError(w, err)
		return
	}
	rv := strconv.FormatInt(res.Revision, 10)
	switch f.shape {
	case shapeTable:
		h.writeTable(w, r, res.Items, rv, res.Continue)
		return
	case shapePartial:
		h.srv.writeObject(w, f, http.StatusOK, partialList(res.Items, rv, res.Continue))
		return
	}
	list, err := h.listObject(res.Items, rv, res.Continue)
	if err != nil {
		writeError(w, err)
		return
	}
	h.srv.writeObject(w, f, http.StatusOK, list)
}

// readObject reads one object: with resourceVersion=0 from the watch
// cache (any state is good enough, as upstream), else from storage.
func (h *resource) readObject(ctx context.Context, info requestInfo, rv string) (runtime.Object, error) {
	if rv != "0" || h.cache == nil {
		return h.getObject(ctx, info)
	}
	obj, _, ok, err := h.cache.Get(ctx, h.store.Key(info.Namespace, info.Name))
	if err != nil {
		return nil, apierrors.NewTimeoutError(err.Error(), 1)
	}
	if !ok {
		return nil, apierrors.NewNotFound(h.def.GroupResource(), info.Name)
	}
	return obj, nil
}

func (h *resource) listObject(items []runtime.Object, rv, cont string) (runtime.Object, error) {
	list := h.def.NewList()
	if err := meta.SetList(list, items); err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	la, err := meta.ListAccessor(list)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	la.SetResourceVersion(rv)
	la.SetContinue(cont)
	list.GetObjectKind().SetGroupVersionKind(h.def.GroupVersion.WithKind(h.def.ListKind))
	return list, nil
}

// listOptions reads the list query: selectors, paging and
// resourceVersion, and how fresh the answer must be.
func (h *resource) listOptions(q url.Values, ns string) (objstore.ListOptions, listRead, error) {
	match, err := h.matcher(q)
	if err != nil {
		return objstore.ListOptions{}, listRead{}, err
	}
	opts := objstore.ListOptions{Namespace: ns, Match: match, Continue: q.Get("continue")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return opts, listRead{}, apierrors.NewBadRequest(fmt.Sprintf("invalid limit %q", s))
		}
		opts.Limit = n
	}
	rvText, rvMatch := q.Get("resourceVersion"), q.Get("resourceVersionMatch")
	rv, err := objstore.ParseResourceVersion(rvText)
	if err != nil {
		return opts, listRead{}, err
	}
	if opts.Continue != "" && rv != 0 {
		return opts, listRead{}, apierrors.NewBadRequest("specifying resource version is not allowed when using continue")
	}
	if err := checkResourceVersionMatch(rvText, rvMatch, opts.Continue); err != nil {
		return opts, listRead{}, err
	}
	rd := listRead{consistent: rvText == "", notOlderThan: rv}
	if rvMatch == string(metav1.ResourceVersionMatchExact) || (opts.Limit > 0 && rv > 0 && rvMatch == "") {
		opts.Revision, rd.exact = rv, true
	}
	return opts, rd, nil
}

// matcher builds the filter of a label and a field selector.
func (h *resource) matcher(q url.Values) (func(runtime.Object) bool, error) {
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return nil, apierrors.NewBadRequest(err.Error())
	}
	if err := h.checkFields(fs); err != nil {
		return nil, err
	}
	if ls.Empty() && fs.Empty() {
		return nil, nil
	}
	return func(obj runtime.Object) bool {
		if !ls.Matches(labels.Set(accessor(obj).GetLabels())) {
			return false
		}
		return fs.Empty() || fs.Matches(h.def.Strategy.FieldSet(obj))
	}, nil
}

// checkFields refuses field selectors on fields the resource cannot be
// selected by, as upstream does.
func (h *resource) checkFields(fs fields.Selector) error {
	known := h.def.Strategy.FieldSet(h.sampleObject())
	for _, req := range fs.Requirements() {
		if _, ok := known[req.Field]; !ok {
			return apierrors.NewBadRequest(fmt.Sprintf("field label not supported: %s", req.Field))
		}
	}
	return nil
}

// sampleObject is an object whose FieldSet names every selectable field.
func (h *resource) sampleObject() runtime.Object {
	obj := h.def.New()
	m := accessor(obj)
	m.SetName("x")
	if h.def.Namespaced {
		m.SetNamespace("x")
	}
	return obj
}
