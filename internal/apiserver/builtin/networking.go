package builtin

import (
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/ingress"
)

// networkingResources are networking.k8s.io/v1 Ingresses (with status)
// and IngressClasses.
func networkingResources() []*registry.Resource {
	gv := networkingv1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: gv, Name: "ingresses", Singular: "ingress", Kind: "Ingress", ListKind: "IngressList", Namespaced: true,
			ShortNames: []string{"ing"}, Subresources: []string{"status"}, ValidateName: ingress.ValidateName,
			New: newOf[networkingv1.Ingress], NewList: newOf[networkingv1.IngressList], Strategy: ingress.Strategy()},
		{GroupVersion: gv, Name: "ingressclasses", Singular: "ingressclass", Kind: "IngressClass", ListKind: "IngressClassList",
			ValidateName: ingress.ValidateName,
			New:          newOf[networkingv1.IngressClass], NewList: newOf[networkingv1.IngressClassList], Strategy: ingress.ClassStrategy()},
	}
}
