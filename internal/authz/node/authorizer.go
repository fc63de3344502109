// Package node is the Node authorizer and the NodeRestriction admission
// rules: a node agent (user system:node:<name> in group system:nodes) may
// read only the Secrets, ConfigMaps, PersistentVolumeClaims and
// ServiceAccounts its pods use, only its own Node and Lease, and pods
// only through a spec.nodeName selector; everything else a node may do is
// upstream's system:node rules, narrowed on writes to its own Node, Lease,
// pods' status and mirror pods.
package node

import (
	"context"
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"

	"github.com/svcplane/svcplane/internal/authz"
	"github.com/svcplane/svcplane/internal/authz/rbac"
)

// Authorizer is the Node authorization mode.
type Authorizer struct {
	graph *Graph
	rules []rbacv1.PolicyRule
}

var _ authz.Authorizer = (*Authorizer)(nil)

// New returns a Node authorizer over graph.
func New(graph *Graph) *Authorizer {
	return &Authorizer{graph: graph, rules: rbac.NodeRules()}
}

// NodeName returns the node a user is the agent of, if any.
func NodeName(u authz.User) (string, bool) {
	name, ok := strings.CutPrefix(u.Name, authz.NodeUserPrefix)
	if !ok || name == "" || !u.InGroup(authz.GroupNodes) {
		return "", false
	}
	return name, true
}

// Authorize implements authz.Authorizer.
func (az *Authorizer) Authorize(_ context.Context, a authz.Attributes) (authz.Decision, string, error) {
	node, ok := NodeName(a.User)
	if !ok {
		return authz.NoOpinion, "", nil
	}
	if a.ResourceRequest && a.APIGroup == "" {
		if d, reason, handled := az.core(node, a); handled {
			return d, reason, nil
		}
	}
	if a.ResourceRequest && a.APIGroup == "coordination.k8s.io" && a.Resource == "leases" {
		if a.Verb != "create" && a.Name != node {
			return authz.NoOpinion, "can only access node lease with the same name as the requesting node", nil
		}
	}
	return az.static(a)
}

// core decides the core resources the graph scopes; handled is false for
// the others, which the static rules decide.
func (az *Authorizer) core(node string, a authz.Attributes) (authz.Decision, string, bool) {
	switch {
	case a.Resource == "secrets" && a.Subresource == "":
		d, r := az.readRelated(node, a, KindSecret)
		return d, r, true
	case a.Resource == "configmaps" && a.Subresource == "":
		d, r := az.readRelated(node, a, KindConfigMap)
		return d, r, true
	case a.Resource == "persistentvolumeclaims" && a.Subresource == "":
		d, r := az.readRelated(node, a, KindPVC)
		return d, r, true
	case a.Resource == "serviceaccounts" && a.Subresource == "token":
		if az.related(node, a, KindServiceAccount, "create") == authz.Allow {
			return authz.Allow, "", true
		}
		return authz.NoOpinion, noRelation(node), true
	case a.Resource == "nodes" && a.Subresource == "" && slices.Contains([]string{"get", "list", "watch"}, a.Verb):
		return az.readNode(node, a)
	case a.Resource == "pods" && a.Subresource == "" && slices.Contains([]string{"get", "list", "watch"}, a.Verb):
		return az.readPods(node, a)
	}
	return authz.NoOpinion, "", false
}

func noRelation(node string) string {
	return fmt.Sprintf("no relationship found between node '%s' and this object", node)
}

// readRelated allows get, list and watch of one named object a pod of the
// node uses.
func (az *Authorizer) readRelated(node string, a authz.Attributes, kind string) (authz.Decision, string) {
	if !slices.Contains([]string{"get", "list", "watch"}, a.Verb) {
		return authz.NoOpinion, "can only read resources of this type"
	}
	if a.Name == "" {
		return authz.NoOpinion, "can only get individual resources of this type"
	}
	if az.graph.Has(node, Ref{Kind: kind, Namespace: a.Namespace, Name: a.Name}) {
		return authz.Allow, ""
	}
	return authz.NoOpinion, noRelation(node)
}

func (az *Authorizer) related(node string, a authz.Attributes, kind, verb string) authz.Decision {
	if a.Verb == verb && a.Name != "" && az.graph.Has(node, Ref{Kind: kind, Namespace: a.Namespace, Name: a.Name}) {
		return authz.Allow
	}
	return authz.NoOpinion
}

// readNode allows reading only the node's own Node.
func (az *Authorizer) readNode(node string, a authz.Attributes) (authz.Decision, string, bool) {
	if a.Name == node {
		return authz.Allow, "", true
	}
	if a.Name == "" {
		return authz.NoOpinion, fmt.Sprintf("node '%s' cannot read all nodes, only its own Node object", node), true
	}
	return authz.NoOpinion, fmt.Sprintf("node '%s' cannot read '%s', only its own Node object", node, a.Name), true
}

// readPods allows get of a pod bound to the node, and list and watch
// with the selector spec.nodeName=<node>.
func (az *Authorizer) readPods(node string, a authz.Attributes) (authz.Decision, string, bool) {
	if a.Verb == "get" && a.Name != "" {
		if az.graph.PodOn(node, a.Namespace, a.Name) {
			return authz.Allow, "", true
		}
		return authz.NoOpinion, noRelation(node), true
	}
	if sel, err := fields.ParseSelector(a.FieldSelector); err == nil {
		if v, ok := sel.RequiresExactMatch("spec.nodeName"); ok && v == node {
			return authz.Allow, "", true
		}
	}
	return authz.NoOpinion, "can only list/watch pods with spec.nodeName field selector", true
}

// static applies the rules of system:node.
func (az *Authorizer) static(a authz.Attributes) (authz.Decision, string, error) {
	for i := range az.rules {
		if rbac.RuleAllows(a, &az.rules[i]) {
			return authz.Allow, "", nil
		}
	}
	return authz.NoOpinion, "", nil
}
