package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// patchTypeOf reads the patch type from the Content-Type header.
func patchTypeOf(r *http.Request) (types.PatchType, error) {
	ct := r.Header.Get("Content-Type")
	if i := strings.Index(ct, ";"); i >= 0 {
		ct = ct[:i]
	}
	switch pt := types.PatchType(strings.TrimSpace(ct)); pt {
	case types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType:
		return pt, nil
	}
	return "", apierrors.NewGenericServerResponse(http.StatusUnsupportedMediaType, "patch", schema.GroupResource{}, "",
		fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: %s, %s, %s, %s",
			types.JSONPatchType, types.MergePatchType, types.StrategicMergePatchType, types.ApplyYAMLPatchType), 0, false)
}

func (h *resource) patch(w http.ResponseWriter, r *http.Request, info requestInfo) {
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		pt, err := patchTypeOf(r)
		if err != nil {
			return nil, 0, nil, err
		}
		if pt == types.ApplyYAMLPatchType && r.URL.Query().Get("fieldManager") == "" {
			return nil, 0, nil, apierrors.NewBadRequest("fieldManager is required for apply requests")
		}
		body, err := readBody(r)
		if err != nil {
			return nil, 0, nil, err
		}
		return h.patchObject(r.Context(), info, pt, body, opts)
	})
}

func (h *resource) patchObject(ctx context.Context, info requestInfo, pt types.PatchType, body []byte, opts writeOptions) (runtime.Object, int, []string, error) {
	if pt == types.ApplyYAMLPatchType {
		return h.apply(ctx, info, body, opts)
	}
	out, warnings, err := h.guaranteedUpdate(ctx, info, opts, func(cur runtime.Object) (runtime.Object, []string, error) {
		return h.applyPatch(cur, pt, body, opts)
	})
	return out, http.StatusOK, warnings, err
}

// applyPatch patches cur. The result keeps cur's resourceVersion cleared
// (so the update retries on conflicts) unless the patch set another.
func (h *resource) applyPatch(cur runtime.Object, pt types.PatchType, patch []byte, opts writeOptions) (runtime.Object, []string, error) {
	curRV := accessor(cur).GetResourceVersion()
	curJSON, err := json.Marshal(cur)
	if err != nil {
		return nil, nil, apierrors.NewInternalError(err)
	}
	patched, err := h.patchJSON(curJSON, pt, patch)
	if err != nil {
		return nil, nil, err
	}
	obj := h.def.New()
	warnings, err := h.srv.codec.DecodeBody(patched, h.def.GroupVersionKind(), obj, codec.BodyOptions{Strict: opts.FieldValidation == "Strict"})
	if err != nil {
		return nil, nil, err
	}
	if opts.FieldValidation == "Ignore" {
		warnings = nil
	}
	if m := accessor(obj); m.GetResourceVersion() == curRV {
		m.SetResourceVersion("")
	}
	return obj, warnings, nil
}

func (h *resource) patchJSON(cur []byte, pt types.PatchType, patch []byte) ([]byte, error) {
	var out []byte
	var err error
	switch pt {
	case types.JSONPatchType:
		var p jsonpatch.Patch
		if p, err = jsonpatch.DecodePatch(patch); err == nil {
			out, err = p.Apply(cur)
		}
	case types.MergePatchType:
		out, err = jsonpatch.MergePatch(cur, patch)
	case types.StrategicMergePatchType:
		out, err = strategicpatch.StrategicMergePatch(cur, patch, h.def.New())
	}
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the patch could not be applied: %v", err))
	}
	return out, nil
}

// apply serves server-side apply: the managed-fields machinery merges the
// applied configuration into the live object, creating it when missing.
func (h *resource) apply(ctx context.Context, info requestInfo, body []byte, opts writeOptions) (runtime.Object, int, []string, error) {
	applied, err := h.decodeApplied(body, info)
	if err != nil {
		return nil, 0, nil, err
	}
	_, err = h.getObject(ctx, info)
	if apierrors.IsNotFound(err) {
		obj, err := h.fieldManager(info.Subresource).Apply(h.def.New(), applied, opts.FieldManager, opts.Force)
		if err != nil {
			return nil, 0, nil, applyError(err)
		}
		out, warnings, err := h.createObject(ctx, obj, info.Namespace, opts)
		return out, http.StatusCreated, warnings, err
	}
	out, warnings, err := h.guaranteedUpdate(ctx, info, opts, func(cur runtime.Object) (runtime.Object, []string, error) {
		obj, err := h.fieldManager(info.Subresource).Apply(cur, applied, opts.FieldManager, opts.Force)
		if err != nil {
			return nil, nil, applyError(err)
		}
		accessor(obj).SetResourceVersion("")
		return obj, nil, nil
	})
	return out, http.StatusOK, warnings, err
}

func (h *resource) decodeApplied(body []byte, info requestInfo) (*unstructured.Unstructured, error) {
	var m map[string]any
	if err := yaml.Unmarshal(body, &m); err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	u := &unstructured.Unstructured{Object: m}
	gvk := h.def.GroupVersionKind()
	if u.GroupVersionKind() != gvk {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the apiVersion and kind of the applied configuration (%s, %s) do not match %s, %s",
			u.GetAPIVersion(), u.GetKind(), gvk.GroupVersion(), gvk.Kind))
	}
	if u.GetName() != info.Name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", u.GetName(), info.Name))
	}
	if ns := u.GetNamespace(); ns != "" && ns != info.Namespace {
		return nil, apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return u, nil
}

func applyError(err error) error {
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	return apierrors.NewBadRequest(err.Error())
}

func scalePatch(cur []byte, pt types.PatchType, patch []byte) ([]byte, error) {
	h := &resource{def: &registry.Resource{New: func() runtime.Object { return &autoscalingv1.Scale{} }}}
	return h.patchJSON(cur, pt, patch)
}
