package apiserver

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
)

// scaleTarget is what the scale subresource reads and writes.
type scaleTarget struct {
	replicas **int32
	status   int32
	// selector returns status.selector of the Scale.
	selector func() (string, error)
}

func scaleOf(obj runtime.Object) (scaleTarget, bool) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return scaleTarget{&o.Spec.Replicas, o.Status.Replicas, labelSelector(o.Spec.Selector)}, true
	case *appsv1.ReplicaSet:
		return scaleTarget{&o.Spec.Replicas, o.Status.Replicas, labelSelector(o.Spec.Selector)}, true
	case *appsv1.StatefulSet:
		return scaleTarget{&o.Spec.Replicas, o.Status.Replicas, labelSelector(o.Spec.Selector)}, true
	case *corev1.ReplicationController:
		sel := labels.SelectorFromSet(o.Spec.Selector).String()
		return scaleTarget{&o.Spec.Replicas, o.Status.Replicas, func() (string, error) { return sel, nil }}, true
	}
	return scaleTarget{}, false
}

func labelSelector(ls *metav1.LabelSelector) func() (string, error) {
	return func() (string, error) {
		sel, err := metav1.LabelSelectorAsSelector(ls)
		if err != nil {
			return "", err
		}
		return sel.String(), nil
	}
}

func (h *resource) scaleObject(obj runtime.Object) (*autoscalingv1.Scale, error) {
	t, ok := scaleOf(obj)
	if !ok {
		return nil, apierrors.NewNotFound(h.def.GroupResource(), accessor(obj).GetName()+"/scale")
	}
	m := accessor(obj)
	sel, err := t.selector()
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	replicas := int32(0)
	if *t.replicas != nil {
		replicas = **t.replicas
	}
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{Kind: "Scale", APIVersion: "autoscaling/v1"},
		ObjectMeta: metav1.ObjectMeta{Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp()},
		Spec:   autoscalingv1.ScaleSpec{Replicas: replicas},
		Status: autoscalingv1.ScaleStatus{Replicas: t.status, Selector: sel},
	}, nil
}

// serveScale serves <resource>/scale: get, update and patch of a Scale.
func (h *resource) serveScale(w http.ResponseWriter, r *http.Request, info requestInfo) {
	opts, err := parseWriteOptions(r)
	if err != nil {
		writeError(w, err)
		return
	}
	var body []byte
	if info.Verb == "update" || info.Verb == "patch" {
		if body, err = readBody(r); err != nil {
			writeError(w, err)
			return
		}
	}
	var out runtime.Object
	switch info.Verb {
	case "get":
		out, err = h.getObject(r.Context(), info)
	case "update", "patch":
		info.Subresource = ""
		out, _, err = h.guaranteedUpdate(r.Context(), info, opts, func(cur runtime.Object) (runtime.Object, []string, error) {
			return h.rescale(r, cur, body, info.Verb)
		})
	default:
		err = apierrors.NewMethodNotSupported(h.def.GroupResource(), info.Verb)
	}
	if err != nil {
		writeError(w, err)
		return
	}
	scale, err := h.scaleObject(out)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, scale)
}

// rescale applies a Scale (or a patch of one) to the object.
func (h *resource) rescale(r *http.Request, cur runtime.Object, body []byte, verb string) (runtime.Object, []string, error) {
	scale, err := h.scaleObject(cur)
	if err != nil {
		return nil, nil, err
	}
	want, err := h.desiredScale(r, scale, body, verb)
	if err != nil {
		return nil, nil, err
	}
	if want.Spec.Replicas < 0 {
		return nil, nil, apierrors.NewInvalid(autoscalingv1.SchemeGroupVersion.WithKind("Scale").GroupKind(), scale.Name,
			field.ErrorList{field.Invalid(field.NewPath("spec", "replicas"), want.Spec.Replicas, "must be greater than or equal to 0")})
	}
	t, _ := scaleOf(cur)
	n := want.Spec.Replicas
	*t.replicas = &n
	m := accessor(cur)
	if want.ResourceVersion == scale.ResourceVersion || want.ResourceVersion == "" {
		m.SetResourceVersion("")
	} else {
		m.SetResourceVersion(want.ResourceVersion)
	}
	return cur, nil, nil
}

func (h *resource) desiredScale(r *http.Request, scale *autoscalingv1.Scale, body []byte, verb string) (*autoscalingv1.Scale, error) {
	want := &autoscalingv1.Scale{}
	gvk := autoscalingv1.SchemeGroupVersion.WithKind("Scale")
	if verb == "update" {
		pb := strings.HasPrefix(r.Header.Get("Content-Type"), protobufType)
		_, err := h.srv.codec.DecodeBody(body, gvk, want, codec.BodyOptions{YAML: !pb, Protobuf: pb})
		return want, err
	}
	pt, err := patchTypeOf(r)
	if err != nil || pt == types.ApplyYAMLPatchType {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("unsupported patch type for scale: %q", r.Header.Get("Content-Type")))
	}
	cur, _ := json.Marshal(scale)
	patched, err := scalePatch(cur, pt, body)
	if err != nil {
		return nil, err
	}
	_, err = h.srv.codec.DecodeBody(patched, gvk, want, codec.BodyOptions{})
	return want, err
}
