package apiserver

import (
	"context"
	"fmt"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/authz/node"
)

func (h *resource) create(w http.ResponseWriter, r *http.Request, info requestInfo) {
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		obj, warnings, err := h.decodeNew(r, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		out, more, err := h.createObject(r.Context(), obj, info.Namespace, opts)
		return out, http.StatusCreated, append(warnings, more...), err
	})
}

// createObject admits, prepares, validates and stores a new object.
func (h *resource) createObject(ctx context.Context, obj runtime.Object, ns string, opts writeOptions) (runtime.Object, []string, error) {
	m := accessor(obj)
	if err := matchNamespace(m, ns); err != nil {
		return nil, nil, err
	}
	if err := h.srv.admitNamespace(ctx, h.def, m.GetNamespace()); err != nil {
		return nil, nil, err
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + rand.String(5))
	}
	h.def.Strategy.Default(obj)
	resetCreateMeta(m)
	if err := h.admitWrite(ctx, node.Create, "", obj, nil); err != nil {
		return nil, nil, err
	}
	pending, err := h.beforeCreate(ctx, obj, opts.DryRun)
	if err != nil {
		return nil, nil, err
	}
	h.def.Strategy.PrepareForCreate(ctx, obj)
	out, warnings, err := h.storeNew(ctx, obj, opts)
	pending.Settle(err == nil && !opts.DryRun)
	return out, warnings, err
}

// storeNew validates a prepared object and stores it (unless a dry run).
func (h *resource) storeNew(ctx context.Context, obj runtime.Object, opts writeOptions) (runtime.Object, []string, error) {
	if err := h.validateCreate(ctx, obj); err != nil {
		return nil, nil, err
	}
	if err := h.admitQuota(ctx, obj, opts.DryRun); err != nil {
		return nil, nil, err
	}
	warnings := h.def.Strategy.Warnings(ctx, obj, nil)
	obj = h.fieldManager("").UpdateNoErrors(h.def.New(), obj, opts.FieldManager)
	if opts.DryRun {
		return obj, warnings, nil
	}
	out, err := h.store.Create(ctx, obj)
	if err != nil {
		return nil, nil, err
	}
	return out, warnings, nil
}

func (h *resource) validateCreate(ctx context.Context, obj runtime.Object) error {
	m := accessor(obj)
	errs := apivalidation.ValidateObjectMetaAccessor(m, h.def.Namespaced, h.nameFunc(), field.NewPath("metadata"))
	errs = append(errs, h.def.Strategy.Validate(ctx, obj)...)
	if len(errs) > 0 {
		return apierrors.NewInvalid(h.def.GroupVersionKind().GroupKind(), m.GetName(), errs)
	}
	return nil
}

// resetCreateMeta sets what the server owns in a new object's metadata.
func resetCreateMeta(m metav1.Object) {
	m.SetUID(uuid.NewUUID())
	m.SetCreationTimestamp(metav1.Now())
	m.SetResourceVersion("")
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetSelfLink("")
}

// matchNamespace fills in or checks the object's namespace against the
// request's, as upstream does; cluster-scoped objects lose theirs.
func matchNamespace(m metav1.Object, ns string) error {
	switch {
	case m.GetNamespace() == ns:
	case m.GetNamespace() == "":
		m.SetNamespace(ns)
	case ns == "":
		m.SetNamespace("")
	default:
		return apierrors.NewBadRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	return nil
}

func matchName(m metav1.Object, name string) error {
	if m.GetName() != name {
		return apierrors.NewBadRequest(fmt.Sprintf("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), name))
	}
	return nil
}
