// Package builtin lists the resources svcplane serves, with the discovery
// names, types and strategy of each: the one place a resource is added.
package builtin

import (
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/authentication"
	"github.com/svcplane/svcplane/internal/apiserver/registry/configmap"
	"github.com/svcplane/svcplane/internal/apiserver/registry/deployment"
	"github.com/svcplane/svcplane/internal/apiserver/registry/endpoints"
	"github.com/svcplane/svcplane/internal/apiserver/registry/endpointslice"
	"github.com/svcplane/svcplane/internal/apiserver/registry/event"
	"github.com/svcplane/svcplane/internal/apiserver/registry/lease"
	"github.com/svcplane/svcplane/internal/apiserver/registry/namespace"
	"github.com/svcplane/svcplane/internal/apiserver/registry/node"
	"github.com/svcplane/svcplane/internal/apiserver/registry/pod"
	"github.com/svcplane/svcplane/internal/apiserver/registry/replicaset"
	"github.com/svcplane/svcplane/internal/apiserver/registry/replicationcontroller"
	"github.com/svcplane/svcplane/internal/apiserver/registry/resourcequota"
	"github.com/svcplane/svcplane/internal/apiserver/registry/secret"
	"github.com/svcplane/svcplane/internal/apiserver/registry/service"
	"github.com/svcplane/svcplane/internal/apiserver/registry/serviceaccount"
)

// Config carries what resources need to know of the cluster.
type Config struct {
	Service service.Config
	// ServiceHooks allocate cluster IPs and node ports; nil allocates none.
	ServiceHooks registry.Hooks
	// Tokens answers TokenReviews; nil authenticates no token.
	Tokens authn.TokenAuthenticator
	// PodHooks admit new pods (ServiceAccount admission); nil for none.
	PodHooks registry.Hooks
	// RBACHooks check Roles, ClusterRoles and their bindings against
	// their author's permissions; nil checks nothing.
	RBACHooks registry.Hooks
	// ClaimHooks and VolumeHooks admit new PersistentVolumeClaims
	// (DefaultStorageClass, StorageObjectInUseProtection) and
	// PersistentVolumes; nil for none.
	ClaimHooks, VolumeHooks registry.Hooks
}

// Resources returns every served resource.
func Resources(cfg Config) []*registry.Resource {
	out := append(append(coreResources(cfg), otherResources()...), authenticationResources(cfg)...)
	out = append(out, rbacResources(cfg.RBACHooks)...)
	out = append(out, workloadResources()...)
	out = append(out, certificateResources()...)
	out = append(out, storageResources(cfg)...)
	out = append(out, networkingResources()...)
	out = append(out, policyResources()...)
	return append(out, reviewResources()...)
}

func coreResources(cfg Config) []*registry.Resource {
	v1 := corev1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: v1, Name: "namespaces", Singular: "namespace", Kind: "Namespace", ListKind: "NamespaceList",
			ShortNames: []string{"ns"}, Subresources: []string{"status"}, ValidateName: apivalidation.NameIsDNSLabel,
			New: newOf[corev1.Namespace], NewList: newOf[corev1.NamespaceList], Strategy: namespace.Strategy()},
		{GroupVersion: v1, Name: "nodes", Singular: "node", Kind: "Node", ListKind: "NodeList",
			ShortNames: []string{"no"}, Subresources: []string{"proxy", "status"},
			New: newOf[corev1.Node], NewList: newOf[corev1.NodeList], Strategy: node.Strategy()},
		{GroupVersion: v1, Name: "pods", Singular: "pod", Kind: "Pod", ListKind: "PodList", Namespaced: true,
			ShortNames: []string{"po"}, Categories: []string{"all"}, Subresources: []string{"attach", "binding", "eviction", "exec", "log", "portforward", "proxy", "status"},
			New: newOf[corev1.Pod], NewList: newOf[corev1.PodList], Strategy: pod.Strategy(), Hooks: cfg.PodHooks},
		{GroupVersion: v1, Name: "services", Singular: "service", Kind: "Service", ListKind: "ServiceList", Namespaced: true,
			ShortNames: []string{"svc"}, Categories: []string{"all"}, Subresources: []string{"proxy", "status"},
			ValidateName: apivalidation.NameIsDNS1035Label, Hooks: cfg.ServiceHooks,
			New: newOf[corev1.Service], NewList: newOf[corev1.ServiceList], Strategy: service.Strategy(cfg.Service)},
		{GroupVersion: v1, Name: "endpoints", Singular: "endpoints", Kind: "Endpoints", ListKind: "EndpointsList", Namespaced: true,
			ShortNames: []string{"ep"},
			New:        newOf[corev1.Endpoints], NewList: newOf[corev1.EndpointsList], Strategy: endpoints.Strategy()},
		{GroupVersion: v1, Name: "configmaps", Singular: "configmap", Kind: "ConfigMap", ListKind: "ConfigMapList", Namespaced: true,
			ShortNames: []string{"cm"},
			New:        newOf[corev1.ConfigMap], NewList: newOf[corev1.ConfigMapList], Strategy: configmap.Strategy()},
		{GroupVersion: v1, Name: "replicationcontrollers", Singular: "replicationcontroller", Kind: "ReplicationController",
			ListKind: "ReplicationControllerList", Namespaced: true,
			ShortNames: []string{"rc"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"}, OrphanByDefault: true,
			New: newOf[corev1.ReplicationController], NewList: newOf[corev1.ReplicationControllerList], Strategy: replicationcontroller.Strategy()},
		{GroupVersion: v1, Name: "resourcequotas", Singular: "resourcequota", Kind: "ResourceQuota", ListKind: "ResourceQuotaList",
			Namespaced: true, ShortNames: []string{"quota"}, Subresources: []string{"status"},
			New: newOf[corev1.ResourceQuota], NewList: newOf[corev1.ResourceQuotaList], Strategy: resourcequota.Strategy()},
		{GroupVersion: v1, Name: "secrets", Singular: "secret", Kind: "Secret", ListKind: "SecretList", Namespaced: true,
			New: newOf[corev1.Secret], NewList: newOf[corev1.SecretList], Strategy: secret.Strategy()},
		{GroupVersion: v1, Name: "serviceaccounts", Singular: "serviceaccount", Kind: "ServiceAccount", ListKind: "ServiceAccountList", Namespaced: true,
			ShortNames: []string{"sa"}, Subresources: []string{"token"},
			New: newOf[corev1.ServiceAccount], NewList: newOf[corev1.ServiceAccountList], Strategy: serviceaccount.Strategy()},
		{GroupVersion: v1, Name: "events", Singular: "event", Kind: "Event", ListKind: "EventList", Namespaced: true,
			ShortNames: []string{"ev"},
			New:        newOf[corev1.Event], NewList: newOf[corev1.EventList], Strategy: event.Strategy()},
	}
}

func otherResources() []*registry.Resource {
	apps, disc, coord := appsv1.SchemeGroupVersion, discoveryv1.SchemeGroupVersion, coordinationv1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: apps, Name: "deployments", Singular: "deployment", Kind: "Deployment", ListKind: "DeploymentList", Namespaced: true,
			ShortNames: []string{"deploy"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			New: newOf[appsv1.Deployment], NewList: newOf[appsv1.DeploymentList], Strategy: deployment.Strategy()},
		{GroupVersion: apps, Name: "replicasets", Singular: "replicaset", Kind: "ReplicaSet", ListKind: "ReplicaSetList", Namespaced: true,
			ShortNames: []string{"rs"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			New: newOf[appsv1.ReplicaSet], NewList: newOf[appsv1.ReplicaSetList], Strategy: replicaset.Strategy()},
		{GroupVersion: eventsv1.SchemeGroupVersion, Name: "events", Singular: "event", Kind: "Event", ListKind: "EventList", Namespaced: true,
			ShortNames: []string{"ev"}, Stored: event.Stored(),
			New: newOf[eventsv1.Event], NewList: newOf[eventsv1.EventList], Strategy: event.V1Strategy()},
		{GroupVersion: disc, Name: "endpointslices", Singular: "endpointslice", Kind: "EndpointSlice", ListKind: "EndpointSliceList", Namespaced: true,
			New: newOf[discoveryv1.EndpointSlice], NewList: newOf[discoveryv1.EndpointSliceList], Strategy: endpointslice.Strategy()},
		{GroupVersion: coord, Name: "leases", Singular: "lease", Kind: "Lease", ListKind: "LeaseList", Namespaced: true,
			New: newOf[coordinationv1.Lease], NewList: newOf[coordinationv1.LeaseList], Strategy: lease.Strategy()},
	}
}

// authenticationResources are the unstored authentication.k8s.io
// reviews.
func authenticationResources(cfg Config) []*registry.Resource {
	gv := authenticationv1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: gv, Name: "selfsubjectreviews", Singular: "selfsubjectreview", Kind: "SelfSubjectReview",
			New: newOf[authenticationv1.SelfSubjectReview], Review: authentication.SelfSubjectReview},
		{GroupVersion: gv, Name: "tokenreviews", Singular: "tokenreview", Kind: "TokenReview",
			New: newOf[authenticationv1.TokenReview], Review: authentication.TokenReview(cfg.Tokens)},
	}
}

// newOf returns a new empty object of type T.
func newOf[T any, PT interface {
	*T
	runtime.Object
}]() runtime.Object {
	return PT(new(T))
}
