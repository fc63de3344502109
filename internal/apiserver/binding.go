package apiserver

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
)

// bindingResource names pods/binding in errors, as upstream does.
var bindingResource = schema.GroupResource{Resource: "pods/binding"}

// serveBinding serves POST pods/<name>/binding: a scheduler assigns the pod
// to a node. The pod's spec.nodeName, which updates may not change, is set
// here once, with the PodScheduled condition, as upstream's BindingREST does.
func (h *resource) serveBinding(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if info.Verb != "create" {
		writeError(w, apierrors.NewMethodNotSupported(bindingResource, info.Verb))
		return
	}
	opts, err := parseWriteOptions(r)
	if err != nil {
		writeError(w, err)
		return
	}
	b, err := h.decodeBinding(r, info.Name)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := h.bind(r.Context(), info, b, opts); err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess, Code: http.StatusCreated,
	})
}

// decodeBinding reads and validates the request's v1.Binding.
func (h *resource) decodeBinding(r *http.Request, name string) (*corev1.Binding, error) {
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	b := &corev1.Binding{}
	gvk := corev1.SchemeGroupVersion.WithKind("Binding")
	if _, err := h.srv.codec.DecodeBody(body, gvk, b, codec.BodyOptions{YAML: true}); err != nil {
		return nil, err
	}
	if b.Name != name {
		return nil, apierrors.NewBadRequest("name in URL does not match name in Binding object")
	}
	var errs field.ErrorList
	if k := b.Target.Kind; k != "" && k != "Node" {
		errs = append(errs, field.NotSupported(field.NewPath("target", "kind"), k, []string{"Node", "<empty>"}))
	}
	if b.Target.Name == "" {
		errs = append(errs, field.Required(field.NewPath("target", "name"), ""))
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(gvk.GroupKind(), b.Name, errs)
	}
	return b, nil
}

// bind sets the pod's node, retrying when another write came in between.
func (h *resource) bind(ctx context.Context, info requestInfo, b *corev1.Binding, opts writeOptions) error {
	for attempt := 0; ; attempt++ {
		cur, err := h.getObject(ctx, info)
		if err != nil {
			return err
		}
		pod, ok := cur.DeepCopyObject().(*corev1.Pod)
		if !ok {
			return apierrors.NewNotFound(h.def.GroupResource(), info.Name+"/binding")
		}
		if err := assignPod(pod, b); err != nil {
			return err
		}
		if opts.DryRun {
			return nil
		}
		obj := h.fieldManager("").UpdateNoErrors(cur, pod, opts.FieldManager)
		_, err = h.store.Update(ctx, obj)
		if apierrors.IsConflict(err) && attempt < maxRetries {
			continue
		}
		return err
	}
}

// assignPod checks that the pod may be bound and binds it.
func assignPod(pod *corev1.Pod, b *corev1.Binding) error {
	conflict := func(format string, args ...any) error {
		return apierrors.NewConflict(bindingResource, pod.Name, fmt.Errorf(format, args...))
	}
	switch {
	case b.UID != "" && b.UID != pod.UID:
		return conflict("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID)
	case pod.DeletionTimestamp != nil:
		return conflict("pod %s is being deleted, cannot be assigned to a host", pod.Name)
	case pod.Spec.NodeName != "":
		return conflict("pod %v is already assigned to node %q", pod.Name, pod.Spec.NodeName)
	case len(pod.Spec.SchedulingGates) != 0:
		return conflict("pod %v has non-empty .spec.schedulingGates", pod.Name)
	}
	pod.Spec.NodeName = b.Target.Name
	for k, v := range b.Annotations {
		if pod.Annotations == nil {
			pod.Annotations = map[string]string{}
		}
		pod.Annotations[k] = v
	}
	setScheduled(&pod.Status)
	return nil
}

// setScheduled sets the PodScheduled condition to True.
func setScheduled(status *corev1.PodStatus) {
	now := metav1.Now()
	for i := range status.Conditions {
		c := &status.Conditions[i]
		if c.Type != corev1.PodScheduled {
			continue
		}
		if c.Status != corev1.ConditionTrue {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message = corev1.ConditionTrue, "", ""
		return
	}
	status.Conditions = append(status.Conditions, corev1.PodCondition{
		Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now,
	})
}
