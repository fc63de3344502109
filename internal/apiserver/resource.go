package apiserver

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/watchcache"
)

// resource serves one registry.Resource.
type resource struct {
	def      *registry.Resource
	store    *objstore.Store
	cache    *watchcache.Cacher
	managers map[string]*managedfields.FieldManager
	srv      *Server
	log      *slog.Logger
}

func (h *resource) nameFunc() apivalidation.ValidateNameFunc {
	if h.def.ValidateName != nil {
		return h.def.ValidateName
	}
	return apivalidation.NameIsDNSSubdomain
}

// serve dispatches one request for this resource.
func (h *resource) serve(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if !h.def.Namespaced {
		info.Namespace = ""
	}
	if h.def.Review != nil {
		h.serveReview(w, r, info)
		return
	}
	if h.def.Verbs != nil {
		h.serveAnswered(w, r, info)
		return
	}
	if info.Subresource != "" && !h.servesSubresource(info.Subresource) {
		writeError(w, apierrors.NewNotFound(h.def.GroupResource(), info.Name+"/"+info.Subresource))
		return
	}
	if info.Subresource == "proxy" {
		h.serveProxy(w, r, info)
		return
	}
	if h.proxyToNode(w, r, info) {
		return
	}
	switch {
	case info.Subresource == "scale":
		h.serveScale(w, r, info)
		return
	case info.Subresource == "finalize" && info.Verb == "update":
		h.update(w, r, info)
		return
	case info.Subresource == "binding":
		h.serveBinding(w, r, info)
		return
	case info.Subresource == "token":
		h.serveToken(w, r, info)
		return
	case info.Subresource == "eviction":
		h.serveEviction(w, r, info)
		return
	}
	h.serveVerb(w, r, info)
}

func (h *resource) servesSubresource(sub string) bool {
	if sub == "finalize" {
		return h.def.Name == "namespaces"
	}
	return h.def.HasSubresource(sub)
}

func (h *resource) serveVerb(w http.ResponseWriter, r *http.Request, info requestInfo) {
	sub := info.Subresource
	switch info.Verb {
	case "get":
		h.get(w, r, info)
	case "list":
		h.list(w, r, info)
	case "watch":
		h.watch(w, r, info)
	case "create":
		if sub != "" {
			writeError(w, apierrors.NewMethodNotSupported(h.def.GroupResource(), "create"))
			return
		}
		h.create(w, r, info)
	case "update":
		h.update(w, r, info)
	case "patch":
		h.patch(w, r, info)
	case "delete", "deletecollection":
		if sub != "" {
			writeError(w, apierrors.NewMethodNotSupported(h.def.GroupResource(), info.Verb))
			return
		}
		h.serveDelete(w, r, info)
	default:
		writeError(w, apierrors.NewMethodNotSupported(h.def.GroupResource(), info.Verb))
	}
}

// fieldManager returns the field manager of the main resource or of a
// subresource.
func (h *resource) fieldManager(sub string) *managedfields.FieldManager {
	if fm, ok := h.managers[sub]; ok {
		return fm
	}
	return h.managers[""]
}

// accessor returns the object's metadata, which every served type has.
func accessor(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(fmt.Sprintf("object %T has no metadata: %v", obj, err))
	}
	return m
}

func (h *resource) getObject(ctx context.Context, info requestInfo) (runtime.Object, error) {
	return h.store.Get(ctx, info.Namespace, info.Name)
}
