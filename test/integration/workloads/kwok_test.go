package workloads

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// kwok plays the kubelet of some nodes, as kwok does: it marks their pods
// Running and Ready (when the node is set to ready pods) and finishes the
// graceful deletion of their pods at once.
type kwok struct {
	client kubernetes.Interface
	ctx    context.Context
	t      *testing.T
	store  cache.Store
	mu     sync.Mutex
	nodes  map[string]bool // node -> pods become ready
	next   int
}

func startKwok(ctx context.Context, t *testing.T, client kubernetes.Interface) *kwok {
	k := &kwok{client: client, ctx: ctx, t: t, nodes: map[string]bool{}}
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Core().V1().Pods().Informer()
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { k.handle(obj.(*corev1.Pod)) },
		UpdateFunc: func(_, obj any) { k.handle(obj.(*corev1.Pod)) },
	})
	k.store = inf.GetStore()
	f.Start(ctx.Done())
	return k
}

// run makes the fake kubelet run the node's pods, ready.
func (k *kwok) run(node string) { k.setReady(node, true) }

// stop makes the fake kubelet leave the node's pods alone, as a dead
// agent would.
func (k *kwok) stop(node string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.nodes, node)
}

// setReady says whether the node's pods become ready, and applies it to
// the pods already there.
func (k *kwok) setReady(node string, ready bool) {
	k.mu.Lock()
	k.nodes[node] = ready
	k.mu.Unlock()
	for _, obj := range k.store.List() {
		k.handle(obj.(*corev1.Pod))
	}
}

func (k *kwok) handle(pod *corev1.Pod) {
	k.mu.Lock()
	ready, ok := k.nodes[pod.Spec.NodeName]
	k.mu.Unlock()
	if !ok || k.ctx.Err() != nil {
		return
	}
	if pod.DeletionTimestamp != nil {
		zero := int64(0)
		err := k.client.CoreV1().Pods(pod.Namespace).Delete(k.ctx, pod.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) && k.ctx.Err() == nil {
			k.t.Logf("kwok: delete %s/%s: %v", pod.Namespace, pod.Name, err)
		}
		return
	}
	if pod.Status.Phase == corev1.PodRunning && isReady(pod) == ready {
		return
	}
	k.writeStatus(pod.DeepCopy(), ready)
}

func (k *kwok) writeStatus(pod *corev1.Pod, ready bool) {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	now := metav1.NewTime(time.Now())
	pod.Status.Phase = corev1.PodRunning
	if pod.Status.PodIP == "" {
		k.mu.Lock()
		k.next++
		ip := fmt.Sprintf("10.244.%d.%d", k.next/250, k.next%250+1)
		k.mu.Unlock()
		pod.Status.PodIP, pod.Status.PodIPs = ip, []corev1.PodIP{{IP: ip}}
		pod.Status.StartTime = &now
	}
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, Ready: ready, Started: &ready,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}},
		})
	}
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: now},
		{Type: corev1.ContainersReady, Status: status, LastTransitionTime: now},
		{Type: corev1.PodReady, Status: status, LastTransitionTime: now},
	}
	_, err := k.client.CoreV1().Pods(pod.Namespace).UpdateStatus(k.ctx, pod, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) && k.ctx.Err() == nil {
		k.t.Logf("kwok: status of %s/%s: %v", pod.Namespace, pod.Name, err)
	}
}

func isReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
