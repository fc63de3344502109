package apiserver

import (
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// serveReview serves a create-only, unstored resource: the body is
// decoded, answered by the resource's Review and sent back with 201.
func (h *resource) serveReview(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if info.Verb != "create" || info.Name != "" || info.Subresource != "" {
		writeError(w, apierrors.NewMethodNotSupported(h.def.GroupResource(), info.Verb))
		return
	}
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		obj, warnings, err := h.decodeNew(r, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		out, err := h.def.Review(r.Context(), obj)
		if err != nil {
			return nil, 0, nil, err
		}
		out.GetObjectKind().SetGroupVersionKind(h.def.GroupVersionKind())
		return out, http.StatusCreated, warnings, nil
	})
}
