// Package disruption is the disruption controller: it keeps each
// policy/v1 PodDisruptionBudget's status (currentHealthy, desiredHealthy,
// expectedPods, disruptionsAllowed, disruptedPods, observedGeneration and
// the DisruptionAllowed condition) as kube-controller-manager's does, from
// the pods its selector matches and, for percentages and maxUnavailable,
// the replicas of their controllers (ReplicationController, Deployment
// through its ReplicaSet, ReplicaSet, StatefulSet). The eviction
// subresource of the API server reads that status.
package disruption

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	appsinformers "k8s.io/client-go/informers/apps/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	policyinformers "k8s.io/client-go/informers/policy/v1"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	policylisters "k8s.io/client-go/listers/policy/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"
	pdbhelper "k8s.io/component-helpers/apps/poddisruptionbudget"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "disruption-controller"

// Config configures the controller.
type Config struct {
	Client       kubernetes.Interface
	Budgets      policyinformers.PodDisruptionBudgetInformer
	Pods         coreinformers.PodInformer
	ReplicaSets  appsinformers.ReplicaSetInformer
	Deployments  appsinformers.DeploymentInformer
	StatefulSets appsinformers.StatefulSetInformer
	RCs          coreinformers.ReplicationControllerInformer
	Recorder     record.EventRecorder
	Logger       *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// Controller keeps PodDisruptionBudgets' status.
type Controller struct {
	cfg     Config
	budgets policylisters.PodDisruptionBudgetLister
	pods    corelisters.PodLister
	rss     appslisters.ReplicaSetLister
	deps    appslisters.DeploymentLister
	sets    appslisters.StatefulSetLister
	rcs     corelisters.ReplicationControllerLister
	runner  *controller.Runner
	synced  []cache.InformerSynced
}

// New builds the controller and registers its event handlers; keys are
// the budgets' namespace/name.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	c := &Controller{
		cfg: cfg, budgets: cfg.Budgets.Lister(), pods: cfg.Pods.Lister(), rss: cfg.ReplicaSets.Lister(),
		deps: cfg.Deployments.Lister(), sets: cfg.StatefulSets.Lister(), rcs: cfg.RCs.Lister(),
	}
	for _, inf := range []cache.SharedIndexInformer{cfg.Budgets.Informer(), cfg.Pods.Informer(), cfg.ReplicaSets.Informer(),
		cfg.Deployments.Informer(), cfg.StatefulSets.Informer(), cfg.RCs.Informer()} {
		c.synced = append(c.synced, inf.HasSynced)
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	if _, err := cfg.Budgets.Informer().AddEventHandler(c.runner.ObjectHandlers()); err != nil {
		return nil, fmt.Errorf("disruption controller handlers: %w", err)
	}
	_, err := cfg.Pods.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc: c.enqueuePod,
		UpdateFunc: func(old, cur any) {
			c.enqueuePod(cur)
			if o, ok := old.(*corev1.Pod); ok && !equality.Semantic.DeepEqual(o.Labels, cur.(*corev1.Pod).Labels) {
				c.enqueuePod(old)
			}
		},
		DeleteFunc: c.enqueuePod,
	})
	if err != nil {
		return nil, fmt.Errorf("disruption controller handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

// enqueuePod queues the budgets whose selector matches the pod.
func (c *Controller) enqueuePod(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	budgets, err := c.budgets.PodDisruptionBudgets(pod.Namespace).List(labels.Everything())
	if err != nil {
		return
	}
	for _, pdb := range budgets {
		if sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector); err == nil && sel.Matches(labels.Set(pod.Labels)) {
			c.runner.Enqueue(pdb.Namespace + "/" + pdb.Name)
		}
	}
}

// sync computes and writes one budget's status.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pdb, err := c.budgets.PodDisruptionBudgets(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := c.trySync(ctx, pdb, key); err != nil {
		if apierrors.IsConflict(err) {
			return err
		}
		if ferr := c.failSafe(ctx, pdb, err); ferr != nil {
			return ferr
		}
		return err
	}
	return nil
}

func (c *Controller) trySync(ctx context.Context, pdb *policyv1.PodDisruptionBudget, key string) error {
	sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
	if err != nil {
		return err
	}
	pods, err := c.pods.Pods(pdb.Namespace).List(sel)
	if err != nil {
		return err
	}
	if len(pods) == 0 {
		c.cfg.Recorder.Event(pdb, corev1.EventTypeNormal, "NoPods", "No matching pods found")
	}
	now := c.cfg.Now()
	res, err := Compute(pdb, pods, c.scale, now)
	if err != nil {
		c.cfg.Recorder.Eventf(pdb, corev1.EventTypeWarning, "CalculateExpectedPodCountFailed", "Failed to calculate the number of expected pods: %v", err)
		return err
	}
	if len(res.Unmanaged) > 0 {
		c.cfg.Recorder.Eventf(pdb, corev1.EventTypeWarning, "UnmanagedPods", "Pods selected by this PodDisruptionBudget (selector: %v) were found "+
			"to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "+
			"To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value.", pdb.Spec.Selector)
	}
	if err := c.writeStatus(ctx, pdb, res.Status); err != nil {
		return err
	}
	if res.Recheck != nil {
		c.runner.EnqueueAfter(key, res.Recheck.Sub(now))
	}
	return nil
}

// writeStatus writes the status when it or its condition changed.
func (c *Controller) writeStatus(ctx context.Context, pdb *policyv1.PodDisruptionBudget, st policyv1.PodDisruptionBudgetStatus) error {
	old := pdb.Status
	if old.CurrentHealthy == st.CurrentHealthy && old.DesiredHealthy == st.DesiredHealthy && old.ExpectedPods == st.ExpectedPods &&
		old.DisruptionsAllowed == st.DisruptionsAllowed && equality.Semantic.DeepEqual(old.DisruptedPods, st.DisruptedPods) &&
		old.ObservedGeneration == pdb.Generation && pdbhelper.ConditionsAreUpToDate(pdb) {
		return nil
	}
	out := pdb.DeepCopy()
	out.Status = st
	out.Status.Conditions = append([]metav1.Condition(nil), pdb.Status.Conditions...)
	pdbhelper.UpdateDisruptionAllowedCondition(out)
	_, err := c.cfg.Client.PolicyV1().PodDisruptionBudgets(out.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	return err
}

// failSafe sets disruptionsAllowed to 0 with a SyncFailed condition, so
// that no eviction passes a budget whose status could not be computed.
func (c *Controller) failSafe(ctx context.Context, pdb *policyv1.PodDisruptionBudget, cause error) error {
	out := pdb.DeepCopy()
	out.Status.DisruptionsAllowed = 0
	if out.Status.Conditions == nil {
		out.Status.Conditions = []metav1.Condition{}
	}
	apimeta.SetStatusCondition(&out.Status.Conditions, metav1.Condition{
		Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse, Reason: policyv1.SyncFailedReason,
		Message: cause.Error(), ObservedGeneration: out.Status.ObservedGeneration,
	})
	_, err := c.cfg.Client.PolicyV1().PodDisruptionBudgets(out.Namespace).UpdateStatus(ctx, out, metav1.UpdateOptions{})
	return err
}

// scale finds the desired replicas of the controller ref names, as
// upstream's finders: a ReplicationController, the Deployment of a
// ReplicaSet, a ReplicaSet, a StatefulSet.
func (c *Controller) scale(ref *metav1.OwnerReference, ns string) (Scale, bool, error) {
	switch ref.Kind {
	case "ReplicationController":
		rc, err := c.rcs.ReplicationControllers(ns).Get(ref.Name)
		if apierrors.IsNotFound(err) || (err == nil && rc.UID != ref.UID) {
			return Scale{}, false, nil
		}
		if err != nil {
			return Scale{}, false, err
		}
		return Scale{UID: rc.UID, Replicas: deref(rc.Spec.Replicas)}, true, nil
	case "ReplicaSet":
		return c.replicaSetScale(ref, ns)
	case "StatefulSet":
		ss, err := c.sets.StatefulSets(ns).Get(ref.Name)
		if apierrors.IsNotFound(err) || (err == nil && ss.UID != ref.UID) {
			return Scale{}, false, nil
		}
		if err != nil {
			return Scale{}, false, err
		}
		return Scale{UID: ss.UID, Replicas: deref(ss.Spec.Replicas)}, true, nil
	}
	return Scale{}, false, nil
}

// replicaSetScale is the scale of the ReplicaSet's Deployment when one
// controls it, else the ReplicaSet's.
func (c *Controller) replicaSetScale(ref *metav1.OwnerReference, ns string) (Scale, bool, error) {
	rs, err := c.rss.ReplicaSets(ns).Get(ref.Name)
	if apierrors.IsNotFound(err) || (err == nil && rs.UID != ref.UID) {
		return Scale{}, false, nil
	}
	if err != nil {
		return Scale{}, false, err
	}
	if dref := metav1.GetControllerOf(rs); dref != nil && dref.Kind == "Deployment" {
		d, err := c.deps.Deployments(ns).Get(dref.Name)
		if err == nil && d.UID == dref.UID {
			return Scale{UID: d.UID, Replicas: deref(d.Spec.Replicas)}, true, nil
		}
		if err != nil && !apierrors.IsNotFound(err) {
			return Scale{}, false, err
		}
	}
	return Scale{UID: rs.UID, Replicas: deref(rs.Spec.Replicas)}, true, nil
}

func deref(n *int32) int32 {
	if n == nil {
		return 1
	}
	return *n
}
