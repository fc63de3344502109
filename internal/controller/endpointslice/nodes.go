package endpointslice

import (
	"maps"
	"slices"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// nodeWaiters remembers which Services left pods out because their Node
// did not exist, so that they are synced when it appears.
type nodeWaiters struct {
	mu     sync.Mutex
	byNode map[string]map[string]struct{}
}

func newNodeWaiters() *nodeWaiters {
	return &nodeWaiters{byNode: map[string]map[string]struct{}{}}
}

func (w *nodeWaiters) add(node, serviceKey string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byNode[node] == nil {
		w.byNode[node] = map[string]struct{}{}
	}
	w.byNode[node][serviceKey] = struct{}{}
}

// take returns and forgets the Services waiting for a node.
func (w *nodeWaiters) take(node string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := slices.Sorted(maps.Keys(w.byNode[node]))
	delete(w.byNode, node)
	return keys
}

// waitForNodes registers a Service as waiting for missing nodes and
// queues it at once for any that appeared meanwhile (the add event may
// have come before the registration).
func (c *Controller) waitForNodes(serviceKey string, missing []string) {
	for _, n := range missing {
		if n == "" {
			continue // a pod with an IP but no node: nothing to wait for
		}
		c.waiting.add(n, serviceKey)
		if _, err := c.nodes.Get(n); err == nil {
			c.enqueueAll(c.waiting.take(n))
		}
	}
}

func (c *Controller) onNodeAdd(obj any) {
	if node, ok := obj.(*corev1.Node); ok {
		c.enqueueAll(c.waiting.take(node.Name))
	}
}

// onNodeUpdate resyncs the Services of the node's pods when its zone
// changes, so that their endpoints show the new zone.
func (c *Controller) onNodeUpdate(old, cur any) {
	prev, ok1 := old.(*corev1.Node)
	node, ok2 := cur.(*corev1.Node)
	if !ok1 || !ok2 || prev.Labels[corev1.LabelTopologyZone] == node.Labels[corev1.LabelTopologyZone] {
		return
	}
	pods, err := c.pods.List(labels.Everything())
	if err != nil {
		return
	}
	for _, pod := range pods {
		if pod.Spec.NodeName == node.Name {
			c.podHandlers().Queue(pod)
		}
	}
}

func (c *Controller) enqueueAll(keys []string) {
	for _, k := range keys {
		c.runner.Enqueue(k)
	}
}

// nodesFor looks up the Nodes the pods run on; missing ones are absent
// from the map.
func (c *Controller) nodesFor(pods []*corev1.Pod) map[string]*corev1.Node {
	nodes := map[string]*corev1.Node{}
	for _, pod := range pods {
		name := pod.Spec.NodeName
		if _, done := nodes[name]; done || name == "" {
			continue
		}
		if n, err := c.nodes.Get(name); err == nil {
			nodes[name] = n
		}
	}
	return nodes
}
