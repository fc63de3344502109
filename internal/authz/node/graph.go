package node

import (
	"sync"

	corev1 "k8s.io/api/core/v1"
)

// Kinds of objects a pod references.
const (
	KindSecret         = "secret"
	KindConfigMap      = "configmap"
	KindPVC            = "persistentvolumeclaim"
	KindServiceAccount = "serviceaccount"
)

// Ref names one namespaced object a pod uses.
type Ref struct {
	Kind, Namespace, Name string
}

// Graph records, for each node, the objects the pods bound to it
// reference, counted so that two pods sharing a Secret keep it reachable
// until both are gone. It is fed every pod change.
type Graph struct {
	mu sync.RWMutex
	// pods holds each bound pod's node and references, keyed ns/name.
	pods map[string]podEntry
	// refs counts the references of each node's pods.
	refs map[string]map[Ref]int
}

type podEntry struct {
	node string
	refs []Ref
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{pods: map[string]podEntry{}, refs: map[string]map[Ref]int{}}
}

// Update records a pod change: old is the previous state (nil when
// added), pod the new one (nil when deleted).
func (g *Graph) Update(old, pod *corev1.Pod) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if old != nil {
		g.removeLocked(old.Namespace + "/" + old.Name)
	}
	if pod == nil || pod.Spec.NodeName == "" {
		return
	}
	key := pod.Namespace + "/" + pod.Name
	g.removeLocked(key)
	e := podEntry{node: pod.Spec.NodeName, refs: PodRefs(pod)}
	g.pods[key] = e
	m := g.refs[e.node]
	if m == nil {
		m = map[Ref]int{}
		g.refs[e.node] = m
	}
	for _, r := range e.refs {
		m[r]++
	}
}

func (g *Graph) removeLocked(key string) {
	e, ok := g.pods[key]
	if !ok {
		return
	}
	delete(g.pods, key)
	m := g.refs[e.node]
	for _, r := range e.refs {
		if m[r]--; m[r] <= 0 {
			delete(m, r)
		}
	}
	if len(m) == 0 {
		delete(g.refs, e.node)
	}
}

// Has says whether a pod bound to node references the object.
func (g *Graph) Has(node string, r Ref) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.refs[node][r] > 0
}

// PodOn says whether the pod ns/name is bound to node.
func (g *Graph) PodOn(node, namespace, name string) bool {
	g.mu.RLock()
	defer g.mu.RUnlock()
	e, ok := g.pods[namespace+"/"+name]
	return ok && e.node == node
}

// PodRefs lists the Secrets, ConfigMaps, PersistentVolumeClaims and the
// ServiceAccount a pod uses: volumes (projected sources included),
// env and envFrom of every container, and image pull secrets.
func PodRefs(pod *corev1.Pod) []Ref {
	ns := pod.Namespace
	seen := map[Ref]bool{}
	var out []Ref
	add := func(kind, name string) {
		r := Ref{Kind: kind, Namespace: ns, Name: name}
		if name != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	add(KindServiceAccount, sa)
	for _, s := range pod.Spec.ImagePullSecrets {
		add(KindSecret, s.Name)
	}
	for _, v := range pod.Spec.Volumes {
		volumeRefs(v, add)
	}
	visitContainers(pod, func(c *corev1.Container) { containerRefs(c, add) })
	return out
}

func volumeRefs(v corev1.Volume, add func(kind, name string)) {
	switch {
	case v.Secret != nil:
		add(KindSecret, v.Secret.SecretName)
	case v.ConfigMap != nil:
		add(KindConfigMap, v.ConfigMap.Name)
	case v.PersistentVolumeClaim != nil:
		add(KindPVC, v.PersistentVolumeClaim.ClaimName)
	case v.Projected != nil:
		for _, src := range v.Projected.Sources {
			if src.Secret != nil {
				add(KindSecret, src.Secret.Name)
			}
			if src.ConfigMap != nil {
				add(KindConfigMap, src.ConfigMap.Name)
			}
		}
	}
}

func containerRefs(c *corev1.Container, add func(kind, name string)) {
	for _, from := range c.EnvFrom {
		if from.SecretRef != nil {
			add(KindSecret, from.SecretRef.Name)
		}
		if from.ConfigMapRef != nil {
			add(KindConfigMap, from.ConfigMapRef.Name)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			continue
		}
		if e.ValueFrom.SecretKeyRef != nil {
			add(KindSecret, e.ValueFrom.SecretKeyRef.Name)
		}
		if e.ValueFrom.ConfigMapKeyRef != nil {
			add(KindConfigMap, e.ValueFrom.ConfigMapKeyRef.Name)
		}
	}
}

func visitContainers(pod *corev1.Pod, fn func(*corev1.Container)) {
	for i := range pod.Spec.InitContainers {
		fn(&pod.Spec.InitContainers[i])
	}
	for i := range pod.Spec.Containers {
		fn(&pod.Spec.Containers[i])
	}
	for i := range pod.Spec.EphemeralContainers {
		c := corev1.Container(pod.Spec.EphemeralContainers[i].EphemeralContainerCommon)
		fn(&c)
	}
}
