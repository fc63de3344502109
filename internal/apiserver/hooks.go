package apiserver

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

func (h *resource) beforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (registry.Pending, error) {
	if h.def.Hooks == nil {
		return registry.Pending{}, nil
	}
	return h.def.Hooks.BeforeCreate(ctx, obj, dryRun)
}

func (h *resource) beforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (registry.Pending, error) {
	if h.def.Hooks == nil {
		return registry.Pending{}, nil
	}
	return h.def.Hooks.BeforeUpdate(ctx, obj, old, dryRun)
}

func (h *resource) afterDelete(ctx context.Context, obj runtime.Object) {
	if h.def.Hooks != nil {
		h.def.Hooks.AfterDelete(ctx, obj)
	}
}
