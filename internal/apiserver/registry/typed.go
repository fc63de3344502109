package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Typed builds a Strategy from functions on the resource's own type T (a
// pointer type such as *corev1.Pod). Every function may be left nil: a nil
// hook does nothing, validates nothing, and FieldSet falls back to
// metadata.name and metadata.namespace.
type Typed[T runtime.Object] struct {
	DefaultFunc                func(T)
	PrepareForCreateFunc       func(ctx context.Context, obj T)
	PrepareForUpdateFunc       func(ctx context.Context, obj, old T)
	PrepareForStatusUpdateFunc func(ctx context.Context, obj, old T)
	ValidateFunc               func(ctx context.Context, obj T) field.ErrorList
	ValidateUpdateFunc         func(ctx context.Context, obj, old T) field.ErrorList
	ValidateStatusUpdateFunc   func(ctx context.Context, obj, old T) field.ErrorList
	WarningsFunc               func(ctx context.Context, obj, old T) []string
	FieldSetFunc               func(obj T) fields.Set
}

var _ Strategy = Typed[runtime.Object]{}

func (s Typed[T]) Default(obj runtime.Object) {
	if s.DefaultFunc != nil {
		s.DefaultFunc(obj.(T))
	}
}

func (s Typed[T]) PrepareForCreate(ctx context.Context, obj runtime.Object) {
	if s.PrepareForCreateFunc != nil {
		s.PrepareForCreateFunc(ctx, obj.(T))
	}
}

func (s Typed[T]) PrepareForUpdate(ctx context.Context, obj, old runtime.Object) {
	if s.PrepareForUpdateFunc != nil {
		s.PrepareForUpdateFunc(ctx, obj.(T), old.(T))
	}
}

// PrepareForStatusUpdate calls PrepareForStatusUpdateFunc. Metadata
// changes (labels, annotations...) of a status write are kept, as all of
// upstream's built-in status strategies keep them; a strategy resets what
// its upstream counterpart resets (the spec always).
func (s Typed[T]) PrepareForStatusUpdate(ctx context.Context, obj, old runtime.Object) {
	if s.PrepareForStatusUpdateFunc != nil {
		s.PrepareForStatusUpdateFunc(ctx, obj.(T), old.(T))
	}
}

func (s Typed[T]) Validate(ctx context.Context, obj runtime.Object) field.ErrorList {
	if s.ValidateFunc == nil {
		return nil
	}
	return s.ValidateFunc(ctx, obj.(T))
}

func (s Typed[T]) ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	if s.ValidateUpdateFunc == nil {
		return nil
	}
	return s.ValidateUpdateFunc(ctx, obj.(T), old.(T))
}

func (s Typed[T]) ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList {
	if s.ValidateStatusUpdateFunc == nil {
		return nil
	}
	return s.ValidateStatusUpdateFunc(ctx, obj.(T), old.(T))
}

func (s Typed[T]) Warnings(ctx context.Context, obj, old runtime.Object) []string {
	if s.WarningsFunc == nil {
		return nil
	}
	var o T
	if old != nil {
		o = old.(T)
	}
	return s.WarningsFunc(ctx, obj.(T), o)
}

func (s Typed[T]) FieldSet(obj runtime.Object) fields.Set {
	if s.FieldSetFunc != nil {
		return s.FieldSetFunc(obj.(T))
	}
	return MetaFieldSet(obj)
}

// MetaFieldSet returns the fields every resource can be selected by.
func MetaFieldSet(obj runtime.Object) fields.Set {
	m, err := meta.Accessor(obj)
	if err != nil {
		return fields.Set{}
	}
	set := fields.Set{"metadata.name": m.GetName()}
	if ns := m.GetNamespace(); ns != "" {
		set["metadata.namespace"] = ns
	}
	return set
}
