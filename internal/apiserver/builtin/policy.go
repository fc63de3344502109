package builtin

import (
	policyv1 "k8s.io/api/policy/v1"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/poddisruptionbudget"
)

// policyResources are policy/v1's PodDisruptionBudgets; their Evictions
// are the pods/eviction subresource.
func policyResources() []*registry.Resource {
	gv := policyv1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: gv, Name: "poddisruptionbudgets", Singular: "poddisruptionbudget", Kind: "PodDisruptionBudget",
			ListKind: "PodDisruptionBudgetList", Namespaced: true, ShortNames: []string{"pdb"}, Subresources: []string{"status"},
			New: newOf[policyv1.PodDisruptionBudget], NewList: newOf[policyv1.PodDisruptionBudgetList], Strategy: poddisruptionbudget.Strategy()},
	}
}
