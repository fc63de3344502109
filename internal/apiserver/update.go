package apiserver

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/authz/node"
)

// updateFunc turns (a copy of) the current object into the desired one.
// A result with an empty resourceVersion is written whatever the current
// version is (and retried on conflicts); a set one must still be current.
type updateFunc func(cur runtime.Object) (runtime.Object, []string, error)

// maxRetries bounds the retries of unconditional updates.
const maxRetries = 16

func (h *resource) update(w http.ResponseWriter, r *http.Request, info requestInfo) {
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		obj, warnings, err := h.decodeNew(r, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		if err := matchName(accessor(obj), info.Name); err != nil {
			return nil, 0, nil, err
		}
		out, more, err := h.guaranteedUpdate(r.Context(), info, opts, func(runtime.Object) (runtime.Object, []string, error) {
			return obj.DeepCopyObject(), nil, nil
		})
		return out, http.StatusOK, append(warnings, more...), err
	})
}

// guaranteedUpdate reads the current object, asks fn for the new one,
// prepares, validates and stores it, retrying when another write came in
// between and the change was unconditional.
func (h *resource) guaranteedUpdate(ctx context.Context, info requestInfo, opts writeOptions, fn updateFunc) (runtime.Object, []string, error) {
	for attempt := 0; ; attempt++ {
		cur, err := h.getObject(ctx, info)
		if err != nil {
			return nil, nil, err
		}
		obj, warnings, err := fn(cur.DeepCopyObject())
		if err != nil {
			return nil, nil, err
		}
		m, curRV := accessor(obj), accessor(cur).GetResourceVersion()
		conditional := m.GetResourceVersion() != ""
		if conditional && m.GetResourceVersion() != curRV {
			return nil, nil, apierrors.NewConflict(h.def.GroupResource(), info.Name, fmt.Errorf("%s", objstore.ConflictMessage))
		}
		m.SetResourceVersion(curRV)
		out, more, err := h.updateOnce(ctx, obj, cur, info.Subresource, opts)
		if apierrors.IsConflict(err) && !conditional && attempt < maxRetries {
			continue
		}
		return out, append(warnings, more...), err
	}
}

// updateOnce prepares, allocates, validates and stores one change.
func (h *resource) updateOnce(ctx context.Context, obj, cur runtime.Object, sub string, opts writeOptions) (runtime.Object, []string, error) {
	m, om := accessor(obj), accessor(cur)
	if err := h.keepServerMeta(m, om); err != nil {
		return nil, nil, err
	}
	h.def.Strategy.Default(obj)
	var pending registry.Pending
	if sub == "" {
		var err error
		if pending, err = h.beforeUpdate(ctx, obj, cur, opts.DryRun); err != nil {
			return nil, nil, err
		}
	}
	h.prepareUpdate(ctx, obj, cur, sub)
	if err := h.admitWrite(ctx, node.Update, sub, obj, cur); err != nil {
		pending.Settle(false)
		return nil, nil, err
	}
	out, warnings, err := h.validateAndPersist(ctx, obj, cur, sub, opts)
	pending.Settle(err == nil && !opts.DryRun)
	return out, warnings, err
}

func (h *resource) validateAndPersist(ctx context.Context, obj, cur runtime.Object, sub string, opts writeOptions) (runtime.Object, []string, error) {
	if err := h.validateUpdate(ctx, obj, cur, sub); err != nil {
		return nil, nil, err
	}
	warnings := h.def.Strategy.Warnings(ctx, obj, cur)
	obj = h.fieldManager(sub).UpdateNoErrors(cur, obj, opts.FieldManager)
	out, err := h.persistUpdate(ctx, obj, cur, opts)
	return out, warnings, err
}

// prepareUpdate applies the strategy's rules for what may change.
func (h *resource) prepareUpdate(ctx context.Context, obj, old runtime.Object, sub string) {
	switch sub {
	case "status":
		h.def.Strategy.PrepareForStatusUpdate(ctx, obj, old)
	case "finalize":
		keepAllButFinalizers(obj, old)
	default:
		if su, ok := h.def.SubresourceUpdates[sub]; ok {
			su.Prepare(ctx, obj, old)
			return
		}
		h.def.Strategy.PrepareForUpdate(ctx, obj, old)
	}
}

func (h *resource) validateUpdate(ctx context.Context, obj, old runtime.Object, sub string) error {
	m, om := accessor(obj), accessor(old)
	path := field.NewPath("metadata")
	errs := apivalidation.ValidateObjectMetaAccessor(m, h.def.Namespaced, h.nameFunc(), path)
	errs = append(errs, apivalidation.ValidateObjectMetaAccessorUpdate(m, om, path)...)
	if su, ok := h.def.SubresourceUpdates[sub]; ok {
		errs = append(errs, su.Validate(ctx, obj, old)...)
	} else if sub == "status" {
		errs = append(errs, h.def.Strategy.ValidateStatusUpdate(ctx, obj, old)...)
	} else {
		errs = append(errs, h.def.Strategy.ValidateUpdate(ctx, obj, old)...)
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(h.def.GroupVersionKind().GroupKind(), m.GetName(), errs)
	}
	return nil
}

// keepServerMeta copies the metadata clients may not change.
func (h *resource) keepServerMeta(m, old metav1.Object) error {
	if m.GetUID() != "" && m.GetUID() != old.GetUID() {
		return apierrors.NewConflict(h.def.GroupResource(), old.GetName(),
			fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", m.GetUID(), old.GetUID()))
	}
	if err := matchNamespace(m, old.GetNamespace()); err != nil {
		return err
	}
	if err := matchName(m, old.GetName()); err != nil {
		return err
	}
	m.SetUID(old.GetUID())
	m.SetCreationTimestamp(old.GetCreationTimestamp())
	m.SetDeletionTimestamp(old.GetDeletionTimestamp())
	m.SetDeletionGracePeriodSeconds(old.GetDeletionGracePeriodSeconds())
	m.SetGeneration(old.GetGeneration())
	m.SetSelfLink("")
	return nil
}

// persistUpdate stores the change, or deletes the object when its last
// finalizer went, or does nothing when nothing changed.
func (h *resource) persistUpdate(ctx context.Context, obj, old runtime.Object, opts writeOptions) (runtime.Object, error) {
	switch {
	case finished(obj):
		return h.finishDelete(ctx, obj, opts)
	case apiequality.Semantic.DeepEqual(obj, old):
		return old, nil
	case opts.DryRun:
		return obj, nil
	}
	return h.store.Update(ctx, obj)
}

// finished says a deleted object has no finalizer or grace period left.
func finished(obj runtime.Object) bool {
	m := accessor(obj)
	if m.GetDeletionTimestamp() == nil || len(m.GetFinalizers()) > 0 {
		return false
	}
	if g := m.GetDeletionGracePeriodSeconds(); g != nil && *g > 0 {
		return false
	}
	if ns, ok := obj.(*corev1.Namespace); ok && len(ns.Spec.Finalizers) > 0 {
		return false
	}
	return true
}

// keepAllButFinalizers serves namespaces/finalize: only spec.finalizers
// changes.
func keepAllButFinalizers(obj, old runtime.Object) {
	ns, ok1 := obj.(*corev1.Namespace)
	oldNS, ok2 := old.(*corev1.Namespace)
	if !ok1 || !ok2 {
		return
	}
	finalizers := ns.Spec.Finalizers
	*ns = *oldNS.DeepCopy()
	ns.Spec.Finalizers = finalizers
}

func apiequalObjects(a, b runtime.Object) bool { return apiequality.Semantic.DeepEqual(a, b) }
