package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
)

// The pods/eviction subresource, as kube-apiserver's EvictionREST: a POST
// of a policy/v1 Eviction deletes the pod (with its DisruptionTarget
// condition set first) when the one PodDisruptionBudget selecting it
// allows a disruption, taking that disruption from the budget's status
// (disruptionsAllowed - 1, the pod in disruptedPods) before the delete.
// Otherwise it answers 429 with upstream's message and a DisruptionBudget
// cause. Pods not running (pending, finished, being deleted) are deleted
// regardless; a pod under more than one budget is refused with 500.

var (
	evictionResource = schema.GroupResource{Resource: "pods/eviction"}
	evictionKind     = policyv1.SchemeGroupVersion.WithKind("Eviction")
	pdbResource      = policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")
)

// maxDisruptedPods bounds status.disruptedPods, as upstream's
// MaxDisruptedPodSize.
const maxDisruptedPods = 2000

func (h *resource) serveEviction(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if info.Verb != "create" {
		writeError(w, apierrors.NewMethodNotSupported(evictionResource, info.Verb))
		return
	}
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		ev := &policyv1.Eviction{}
		warnings, err := h.decodeBody(r, evictionKind, ev, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		d, err := evictionDelete(ev, info.Name, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		if err := h.evict(r.Context(), info, d); err != nil {
			return nil, 0, nil, err
		}
		return &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: metav1.StatusSuccess},
			http.StatusCreated, warnings, nil
	})
}

// evictionDelete checks the Eviction against the URL and returns the
// delete it asks for, the request's dry run included.
func evictionDelete(ev *policyv1.Eviction, name string, opts writeOptions) (deleteRequest, error) {
	if ev.Name != name {
		return deleteRequest{}, apierrors.NewBadRequest("name in URL does not match name in Eviction object")
	}
	var d deleteRequest
	if ev.DeleteOptions != nil {
		d.DeleteOptions = *ev.DeleteOptions
		if d.IgnoreStoreReadErrorWithClusterBreakingPotential != nil && *d.IgnoreStoreReadErrorWithClusterBreakingPotential {
			return d, apierrors.NewInvalid(evictionKind.GroupKind(), name, field.ErrorList{field.Invalid(
				field.NewPath("deleteOptions").Child("ignoreStoreReadErrorWithClusterBreakingPotential"), true,
				"can not be set for pod eviction, try after removing the option")})
		}
	}
	d.dryRun = opts.DryRun || len(d.DryRun) > 0
	return d, nil
}

// evict deletes the pod if its budget allows.
func (h *resource) evict(ctx context.Context, info requestInfo, d deleteRequest) error {
	obj, err := h.getObject(ctx, info)
	if err != nil {
		return err
	}
	pod := obj.(*corev1.Pod)
	if evictableRegardless(pod) {
		return h.evictNow(ctx, info, d)
	}
	budgets, err := h.budgetsOf(ctx, pod)
	if err != nil {
		return err
	}
	switch {
	case len(budgets) > 1:
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."}}
	case len(budgets) == 0:
		return h.evictNow(ctx, info, d)
	}
	pdb := budgets[0]
	if !podReady(pod) && unhealthyEvictable(pdb) {
		// An unready pod costs the budget nothing; it goes only as it
		// was read, as upstream's resourceVersion precondition.
		guarded := d
		rv := pod.ResourceVersion
		guarded.Preconditions = &metav1.Preconditions{ResourceVersion: &rv}
		err := h.evictNow(ctx, info, guarded)
		if apierrors.IsConflict(err) && (d.Preconditions == nil || d.Preconditions.ResourceVersion == nil) {
			return budgetProcessing(pdb.Name)
		}
		return err
	}
	if err := h.takeDisruption(ctx, pdb, pod.Name, d.dryRun); err != nil {
		return err
	}
	return h.evictNow(ctx, info, d)
}

// evictableRegardless: pods not running, or already going, ignore
// budgets (upstream's canIgnorePDB).
func evictableRegardless(pod *corev1.Pod) bool {
	switch pod.Status.Phase {
	case corev1.PodSucceeded, corev1.PodFailed, corev1.PodPending:
		return true
	}
	return pod.DeletionTimestamp != nil
}

// unhealthyEvictable says whether an unready pod may go without taking a
// disruption: the budget always allows it, or is healthy enough.
func unhealthyEvictable(pdb *policyv1.PodDisruptionBudget) bool {
	if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
		return true
	}
	return pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// budgetsOf lists the PodDisruptionBudgets of the pod's namespace whose
// selector matches it: in policy/v1 an empty selector matches every pod,
// a missing one none.
func (h *resource) budgetsOf(ctx context.Context, pod *corev1.Pod) ([]*policyv1.PodDisruptionBudget, error) {
	budgets := h.srv.resources[pdbResource]
	if budgets == nil {
		return nil, nil
	}
	res, err := budgets.store.List(ctx, objstore.ListOptions{Namespace: pod.Namespace})
	if err != nil {
		return nil, err
	}
	var out []*policyv1.PodDisruptionBudget
	for _, o := range res.Items {
		pdb := o.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		out = append(out, pdb)
	}
	return out, nil
}

// takeDisruption takes one disruption from the budget's status, or says
// why it cannot (upstream's checkAndDecrement), retrying on conflicts.
func (h *resource) takeDisruption(ctx context.Context, pdb *policyv1.PodDisruptionBudget, podName string, dryRun bool) error {
	budgets := h.srv.resources[pdbResource]
	info := requestInfo{Namespace: pdb.Namespace, Name: pdb.Name, Subresource: "status", Verb: "update"}
	_, _, err := budgets.guaranteedUpdate(ctx, info, writeOptions{DryRun: dryRun}, func(cur runtime.Object) (runtime.Object, []string, error) {
		p := cur.(*policyv1.PodDisruptionBudget)
		if err := disruptionAllowed(p); err != nil {
			return nil, nil, err
		}
		p.Status.DisruptionsAllowed--
		if p.Status.DisruptionsAllowed == 0 {
			pdbhelper.UpdateDisruptionAllowedCondition(p)
		}
		if p.Status.DisruptedPods == nil {
			p.Status.DisruptedPods = map[string]metav1.Time{}
		}
		p.Status.DisruptedPods[podName] = metav1.Time{Time: time.Now()}
		return p, nil, nil
	})
	return err
}

// disruptionAllowed says whether the budget, as stored, allows one more
// disruption, with upstream's errors when not.
func disruptionAllowed(p *policyv1.PodDisruptionBudget) error {
	forbidden := func(msg string) error {
		return apierrors.NewForbidden(schema.GroupResource{Group: "policy", Resource: "poddisruptionbudget"}, p.Name, fmt.Errorf("%s", msg))
	}
	switch {
	case p.Status.ObservedGeneration < p.Generation:
		return budgetProcessing(p.Name)
	case p.Status.DisruptionsAllowed < 0:
		return forbidden("pdb disruptions allowed is negative")
	case len(p.Status.DisruptedPods) > maxDisruptedPods:
		return forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller")
	case p.Status.DisruptionsAllowed == 0:
		return tooManyEvictions(0, fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently",
			p.Name, p.Status.DesiredHealthy, p.Status.CurrentHealthy))
	}
	return nil
}

// budgetProcessing is the 429 of a budget whose status is behind its spec.
func budgetProcessing(name string) error {
	return tooManyEvictions(10, fmt.Sprintf("The disruption budget %s is still being processed by the server.", name))
}

func tooManyEvictions(retryAfter int, cause string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", retryAfter)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes,
		metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: cause})
	return err
}

// evictNow marks the pod a disruption target and deletes it.
func (h *resource) evictNow(ctx context.Context, info requestInfo, d deleteRequest) error {
	if !d.dryRun {
		st := info
		st.Subresource, st.Verb = "status", "update"
		_, _, err := h.guaranteedUpdate(ctx, st, writeOptions{}, func(cur runtime.Object) (runtime.Object, []string, error) {
			pod := cur.(*corev1.Pod)
			if err := h.checkDelete(pod, d); err != nil {
				return nil, nil, err
			}
			setDisruptionTarget(pod)
			return pod, nil, nil
		})
		if err != nil {
			return err
		}
		if d.Preconditions != nil && d.Preconditions.ResourceVersion != nil {
			// Our own condition write moved the version on.
			cur, err := h.getObject(ctx, info)
			if err != nil {
				return err
			}
			rv := accessor(cur).GetResourceVersion()
			p := *d.Preconditions
			p.ResourceVersion = &rv
			d.Preconditions = &p
		}
	}
	_, _, err := h.deleteObject(ctx, info.Namespace, info.Name, d)
	return err
}

// setDisruptionTarget sets the pod's DisruptionTarget condition, as the
// eviction API does upstream.
func setDisruptionTarget(pod *corev1.Pod) {
	c := corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
		Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.Now()}
	for i := range pod.Status.Conditions {
		if old := &pod.Status.Conditions[i]; old.Type == c.Type {
			if old.Status == c.Status {
				c.LastTransitionTime = old.LastTransitionTime
			}
			*old = c
			return
		}
	}
	pod.Status.Conditions = append(pod.Status.Conditions, c)
}
