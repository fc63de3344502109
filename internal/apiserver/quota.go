package apiserver

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/quota"
)

// quotaTries bounds the rounds of charging quotas that other writes
// change at the same time.
const quotaTries = 10

// admitQuota is the ResourceQuota admission of a create: it refuses a
// new object that would take its namespace's quotas over their hard
// limits (upstream's "exceeded quota" Forbidden) and otherwise adds its
// usage to their status.used at once, with the quota's resourceVersion as
// precondition, so objects created side by side cannot both take the last
// unit. The resourcequota controller recounts from the objects later (an
// object whose create failed after this is uncounted then). A dry run is
// checked and not charged.
func (h *resource) admitQuota(ctx context.Context, obj runtime.Object, dryRun bool) error {
	if !h.def.Namespaced {
		return nil
	}
	quotas := h.srv.resources[corev1.SchemeGroupVersion.WithResource("resourcequotas")]
	if quotas == nil || quotas.store == nil {
		return nil
	}
	m := accessor(obj)
	charged := map[string]bool{}
	for range quotaTries {
		res, err := quotas.store.List(ctx, objstore.ListOptions{Namespace: m.GetNamespace()})
		if err != nil {
			return err
		}
		var pending []*corev1.ResourceQuota
		for _, o := range res.Items {
			if q := o.(*corev1.ResourceQuota); !charged[q.Name] {
				pending = append(pending, q)
			}
		}
		if len(pending) == 0 {
			return nil
		}
		updates, err := quota.Admit(pending, h.def.GroupResource(), obj, time.Now())
		if err != nil {
			return apierrors.NewForbidden(h.def.GroupResource(), m.GetName(), err)
		}
		if dryRun {
			return nil
		}
		done, err := chargeQuotas(ctx, quotas.store, updates, charged)
		if err != nil || done {
			return err
		}
	}
	return apierrors.NewConflict(h.def.GroupResource(), m.GetName(),
		fmt.Errorf("the namespace's resource quotas kept changing (%d tries)", quotaTries))
}

// chargeQuotas writes the quotas' new status.used, each over the version
// it was computed from, and marks the ones written in charged. It says
// whether all were written; a conflict leaves the rest for another round.
func chargeQuotas(ctx context.Context, store *objstore.Store, updates []*corev1.ResourceQuota, charged map[string]bool) (bool, error) {
	for _, q := range updates {
		if _, err := store.Update(ctx, q); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, err
		}
		charged[q.Name] = true
	}
	return true, nil
}
