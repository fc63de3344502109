package agent

import (
	"context"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/cache"
)

// podManager keeps one worker per pod bound to the node.
type podManager struct {
	ctx     context.Context
	a       *Agent
	mu      sync.Mutex
	workers map[types.UID]*podWorker
}

func newPodManager(ctx context.Context, a *Agent) *podManager {
	return &podManager{ctx: ctx, a: a, workers: map[types.UID]*podWorker{}}
}

// handler passes informer events to the workers.
func (m *podManager) handler() cache.ResourceEventHandler {
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { m.update(obj) },
		UpdateFunc: func(_, obj any) { m.update(obj) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if pod, ok := obj.(*corev1.Pod); ok {
				m.gone(pod.UID)
			}
		},
	}
}

// update gives the latest pod to its worker, starting one for a new pod.
func (m *podManager) update(obj any) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || isMirror(pod) {
		return // a static pod runs on its own; its mirror is the API's view
	}
	m.mu.Lock()
	w, ok := m.workers[pod.UID]
	if !ok {
		w = newPodWorker(m.a, pod)
		m.workers[pod.UID] = w
		go m.run(w)
	}
	m.mu.Unlock()
	w.setPod(pod)
}

// gone tells the worker its pod left the API.
func (m *podManager) gone(uid types.UID) {
	m.mu.Lock()
	w, ok := m.workers[uid]
	m.mu.Unlock()
	if ok {
		w.setGone()
	}
}

func (m *podManager) run(w *podWorker) {
	w.run(m.ctx)
	m.mu.Lock()
	if m.workers[w.uid] == w {
		delete(m.workers, w.uid)
	}
	m.mu.Unlock()
}

// wake asks a pod's worker to sync now.
func (m *podManager) wake(uid types.UID) {
	m.mu.Lock()
	w, ok := m.workers[uid]
	m.mu.Unlock()
	if ok {
		w.wake()
	}
}

// runtimeEvents wakes the workers of pods whose containers exited.
func (m *podManager) runtimeEvents(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case uid := <-m.a.rt.Events():
			m.wake(uid)
		}
	}
}

// removeOrphans stops and removes pods the runtime holds that are no
// longer bound to the node (deleted while the agent was away).
func (m *podManager) removeOrphans(ctx context.Context, objs []any) {
	known := map[types.UID]bool{}
	for _, o := range objs {
		known[o.(*corev1.Pod).UID] = true
	}
	for _, uid := range m.a.rt.Pods() {
		if known[uid] {
			continue
		}
		m.a.log.Info("removing orphaned pod", "uid", uid)
		if err := m.a.rt.RemoveSandbox(ctx, uid); err != nil {
			m.a.log.Error("orphaned pod not removed", "uid", uid, "err", err)
		}
	}
	if m.a.volumes != nil {
		if err := m.a.volumes.Orphans(known); err != nil {
			m.a.log.Error("orphaned volumes not removed", "err", err)
		}
	}
	m.releaseOrphanLeases(known)
}

// releaseOrphanLeases ends the image leases of containers whose pods are
// gone (deleted while the agent was away), so that removed images free
// their layers.
func (m *podManager) releaseOrphanLeases(known map[types.UID]bool) {
	if m.a.cfg.Leases == nil {
		return
	}
	holders, err := m.a.cfg.Leases.Holders()
	if err != nil {
		m.a.log.Error("image leases not reconciled", "err", err)
		return
	}
	for _, h := range holders {
		uid, _, ok := strings.Cut(h, "_")
		if ok && known[types.UID(uid)] {
			continue
		}
		m.a.log.Info("releasing the image lease of a pod that is gone", "holder", h)
		if err := m.a.cfg.Leases.Release(h); err != nil {
			m.a.log.Error("image lease not released", "holder", h, "err", err)
		}
	}
}
