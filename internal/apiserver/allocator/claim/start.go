package claim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	v1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
	"github.com/svcplane/svcplane/internal/storage"
)

// Start rebuilds the local allocators and the claims at start-up, before
// Service writes are served and before Run. It reads the claims, then the
// Services (in this order: a Service created in between already has its
// claims, one deleted in between has released them), runs allocator.Repair
// on the empty local allocators and returns its conflicts, marks locally
// every claimed value, and claims the values Services hold without a claim
// (Services stored before claims existed).
func (c *Claims) Start(ctx context.Context, list ListServices) ([]allocator.Conflict, error) {
	claimed, rev, err := c.io.list(ctx)
	if err != nil {
		return nil, fmt.Errorf("list service allocation claims: %w", err)
	}
	services, err := list(ctx)
	if err != nil {
		return nil, err
	}
	conflicts := allocator.Repair(c.cfg.Local, services)
	c.rev = rev
	for key := range claimed {
		c.mark(key)
	}
	for key, holder := range heldKeys(services) {
		if _, ok := claimed[key]; ok {
			continue
		}
		if err := c.claimHeld(ctx, key, holder); err != nil {
			return nil, fmt.Errorf("claim a value of %s: %w", holder, err)
		}
	}
	return conflicts, nil
}

// claimHeld claims key for holder, a Service that holds the value; a key
// claimed meanwhile is left as it is.
func (c *Claims) claimHeld(ctx context.Context, key, holder string) error {
	err := c.io.create(ctx, key, holder)
	if err != nil && !errors.Is(err, storage.ErrExists) {
		return err
	}
	c.mark(key)
	c.cfg.Logger.Info("claimed a value a service holds", "key", key, "holder", holder, "existed", err != nil)
	return nil
}

// heldKeys maps the claim keys of the values services hold to their
// holder: of two Services holding one value, the first in namespace/name
// order, as allocator.Repair decides.
func heldKeys(services []*v1.Service) map[string]string {
	sorted := slices.Clone(services)
	slices.SortFunc(sorted, func(x, y *v1.Service) int {
		return cmp.Or(cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	held := map[string]string{}
	for _, svc := range sorted {
		holder := Holder(svc.Namespace, svc.Name)
		ips, ports := allocator.Held(svc)
		for _, ip := range ips {
			addFirst(held, IPKey(ip), holder)
		}
		for _, p := range ports {
			addFirst(held, NodePortKey(p), holder)
		}
	}
	return held
}

func addFirst(m map[string]string, key, holder string) {
	if _, ok := m[key]; !ok {
		m[key] = holder
	}
}
