package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"
)

// Chain runs several Hooks in order, as admission runs its plugins: the
// first error stops the chain and aborts what the earlier hooks did.
type Chain []Hooks

var _ Hooks = Chain(nil)

// BeforeCreate runs each hook's BeforeCreate.
func (c Chain) BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (Pending, error) {
	return c.run(func(h Hooks) (Pending, error) { return h.BeforeCreate(ctx, obj, dryRun) })
}

// BeforeUpdate runs each hook's BeforeUpdate.
func (c Chain) BeforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (Pending, error) {
	return c.run(func(h Hooks) (Pending, error) { return h.BeforeUpdate(ctx, obj, old, dryRun) })
}

// AfterDelete runs each hook's AfterDelete.
func (c Chain) AfterDelete(ctx context.Context, obj runtime.Object) {
	for _, h := range c {
		h.AfterDelete(ctx, obj)
	}
}

func (c Chain) run(step func(Hooks) (Pending, error)) (Pending, error) {
	var done []Pending
	settle := func(ok bool) {
		for _, p := range done {
			p.Settle(ok)
		}
	}
	for _, h := range c {
		p, err := step(h)
		if err != nil {
			settle(false)
			return Pending{}, err
		}
		done = append(done, p)
	}
	return Pending{Commit: func() { settle(true) }, Abort: func() { settle(false) }}, nil
}
