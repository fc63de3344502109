package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
)

// sync schedules one pod.
func (c *Controller) sync(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	pod, err := c.pods.Pods(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !needsScheduling(pod) {
		return nil
	}
	vols, err := c.podVolumes(pod)
	if err != nil {
		return c.preFilterFailed(ctx, pod, key, err)
	}
	node, err := c.choose(pod, key, vols)
	if err != nil {
		return c.unschedulable(ctx, pod, key, err)
	}
	if node == "" {
		return nil
	}
	if len(vols.Delayed) > 0 {
		// The claims are bound for node first; the pod follows.
		c.forget(key)
		c.runner.EnqueueAfter(key, 5*time.Second)
		return c.selectNode(ctx, vols, node)
	}
	return c.bind(ctx, pod, key, node)
}

// preFilterFailed reports a reason that keeps the pod off every node, as
// upstream words a PreFilter failure.
func (c *Controller) preFilterFailed(ctx context.Context, pod *corev1.Pod, key string, err error) error {
	var ue unschedulableError
	if !errors.As(err, &ue) {
		return err
	}
	nodes, lerr := c.nodes.List(labels.Everything())
	if lerr != nil {
		return lerr
	}
	n := len(nodes)
	return c.unschedulable(ctx, pod, key, fmt.Errorf("0/%d nodes are available: %s. preemption: 0/%d nodes are available: %d Preemption is not helpful for scheduling.", n, ue, n, n))
}

// choose picks a node and assumes the pod on it, under the lock so that
// the next choice counts it. An empty name means the pod is already
// assumed.
func (c *Controller) choose(pod *corev1.Pod, key string, vols PodVolumes) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.assumed[key]; ok {
		return "", nil
	}
	infos, err := c.nodeInfos()
	if err != nil {
		return "", err
	}
	node, err := ScheduleWithVolumes(pod, infos, vols)
	if err != nil {
		return "", err
	}
	c.assumed[key] = node
	return node, nil
}

// nodeInfos is every node with the pods bound or assumed on it. Callers
// hold c.mu.
func (c *Controller) nodeInfos() ([]NodeInfo, error) {
	nodes, err := c.nodes.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return nil, err
	}
	byNode := map[string]*NodeInfo{}
	infos := make([]NodeInfo, len(nodes))
	for i, n := range nodes {
		infos[i] = NodeInfo{Node: n}
		byNode[n.Name] = &infos[i]
	}
	for _, p := range pods {
		node := p.Spec.NodeName
		if node == "" {
			node = c.assumed[p.Namespace+"/"+p.Name]
		}
		info, ok := byNode[node]
		if !ok || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		cpu, mem := Requests(p)
		info.Pods, info.MilliCPU, info.Memory = info.Pods+1, info.MilliCPU+cpu, info.Memory+mem
		info.PodList = append(info.PodList, p)
	}
	return infos, nil
}

// bind asks the API to put the pod on node.
func (c *Controller) bind(ctx context.Context, pod *corev1.Pod, key, node string) error {
	b := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: node},
	}
	if err := c.cfg.Client.CoreV1().Pods(pod.Namespace).Bind(ctx, b, metav1.CreateOptions{}); err != nil {
		c.forget(key)
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("bind %s to %s: %w", key, node, err)
	}
	c.cfg.Recorder.Eventf(pod, corev1.EventTypeNormal, "Scheduled", "Successfully assigned %v/%v to %v", pod.Namespace, pod.Name, node)
	return nil
}

// unschedulable records why the pod waits: a FailedScheduling event and
// the PodScheduled=False condition; the pod is tried again later or when
// nodes or pods change.
func (c *Controller) unschedulable(ctx context.Context, pod *corev1.Pod, key string, reason error) error {
	msg := reason.Error()
	c.cfg.Recorder.Event(pod, corev1.EventTypeWarning, "FailedScheduling", msg)
	c.runner.EnqueueAfter(key, c.cfg.RetryPeriod)
	cond := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
		Reason: corev1.PodReasonUnschedulable, Message: msg}
	updated := pod.DeepCopy()
	if !setCondition(&updated.Status, cond, metav1.NewTime(c.cfg.Now())) {
		return nil
	}
	_, err := c.cfg.Client.CoreV1().Pods(pod.Namespace).UpdateStatus(ctx, updated, metav1.UpdateOptions{})
	if apierrors.IsNotFound(err) || apierrors.IsConflict(err) {
		return nil
	}
	return err
}

// setCondition puts cond in status, keeping the transition time when the
// status does not change; it says whether anything changed.
func setCondition(status *corev1.PodStatus, cond corev1.PodCondition, now metav1.Time) bool {
	for i := range status.Conditions {
		cur := &status.Conditions[i]
		if cur.Type != cond.Type {
			continue
		}
		if cur.Status == cond.Status && cur.Reason == cond.Reason && cur.Message == cond.Message {
			return false
		}
		cond.LastTransitionTime = cur.LastTransitionTime
		if cur.Status != cond.Status {
			cond.LastTransitionTime = now
		}
		cond.LastProbeTime = cur.LastProbeTime
		*cur = cond
		return true
	}
	cond.LastTransitionTime = now
	status.Conditions = append(status.Conditions, cond)
	return true
}
