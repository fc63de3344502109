package gc

import (
	"slices"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
)

// Node is what the collector knows of one object.
type Node struct {
	Resource   Resource
	Namespace  string
	Name       string
	UID        types.UID
	Owners     []metav1.OwnerReference
	Finalizers []string
	Deleting   bool
}

func nodeOf(r Resource, m metav1.Object) *Node {
	return &Node{
		Resource: r, Namespace: m.GetNamespace(), Name: m.GetName(), UID: m.GetUID(),
		Owners: m.GetOwnerReferences(), Finalizers: m.GetFinalizers(), Deleting: m.GetDeletionTimestamp() != nil,
	}
}

// DeletingDependents is an object in foreground deletion.
func (n *Node) DeletingDependents() bool {
	return n.Deleting && slices.Contains(n.Finalizers, metav1.FinalizerDeleteDependents)
}

// Orphaning is an object deleted with the Orphan policy.
func (n *Node) Orphaning() bool {
	return n.Deleting && slices.Contains(n.Finalizers, metav1.FinalizerOrphanDependents)
}

// ownerRef returns n's reference to owner, if any.
func (n *Node) ownerRef(owner types.UID) (metav1.OwnerReference, bool) {
	for _, ref := range n.Owners {
		if ref.UID == owner {
			return ref, true
		}
	}
	return metav1.OwnerReference{}, false
}

// Graph is the ownership graph: objects by UID and, for every owner UID
// (seen or not), the UIDs of its dependents.
type Graph struct {
	mu         sync.RWMutex
	nodes      map[types.UID]*Node
	dependents map[types.UID]sets.Set[types.UID]
}

// NewGraph is an empty graph.
func NewGraph() *Graph {
	return &Graph{nodes: map[types.UID]*Node{}, dependents: map[types.UID]sets.Set[types.UID]{}}
}

// Upsert records n and returns what was there before.
func (g *Graph) Upsert(n *Node) *Node {
	g.mu.Lock()
	defer g.mu.Unlock()
	old := g.nodes[n.UID]
	if old != nil {
		g.unlink(old)
	}
	g.nodes[n.UID] = n
	for _, ref := range n.Owners {
		if g.dependents[ref.UID] == nil {
			g.dependents[ref.UID] = sets.New[types.UID]()
		}
		g.dependents[ref.UID].Insert(n.UID)
	}
	return old
}

// Remove forgets the object and returns it.
func (g *Graph) Remove(uid types.UID) *Node {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.nodes[uid]
	if n != nil {
		g.unlink(n)
		delete(g.nodes, uid)
	}
	return n
}

func (g *Graph) unlink(n *Node) {
	for _, ref := range n.Owners {
		if deps := g.dependents[ref.UID]; deps != nil {
			deps.Delete(n.UID)
			if deps.Len() == 0 {
				delete(g.dependents, ref.UID)
			}
		}
	}
}

// Get returns the object with uid.
func (g *Graph) Get(uid types.UID) *Node {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.nodes[uid]
}

// Dependents returns the known objects that reference owner.
func (g *Graph) Dependents(owner types.UID) []*Node {
	g.mu.RLock()
	defer g.mu.RUnlock()
	var out []*Node
	for uid := range g.dependents[owner] {
		if n := g.nodes[uid]; n != nil {
			out = append(out, n)
		}
	}
	return out
}

// Blocking returns the dependents of owner whose reference to it has
// blockOwnerDeletion set: foreground deletion waits for them.
func (g *Graph) Blocking(owner types.UID) []*Node {
	var out []*Node
	for _, d := range g.Dependents(owner) {
		if ref, ok := d.ownerRef(owner); ok && blocks(ref) {
			out = append(out, d)
		}
	}
	return out
}
