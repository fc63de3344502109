package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels and annotations of the bootstrap policy objects.
const (
	BootstrapLabel      = "kubernetes.io/bootstrapping"
	BootstrapLabelValue = "rbac-defaults"
	AggregateToAdmin    = "rbac.authorization.k8s.io/aggregate-to-admin"
	AggregateToEdit     = "rbac.authorization.k8s.io/aggregate-to-edit"
	AggregateToView     = "rbac.authorization.k8s.io/aggregate-to-view"
)

const (
	core      = ""
	apps      = "apps"
	disc      = "discovery.k8s.io"
	coord     = "coordination.k8s.io"
	evGroup   = "events.k8s.io"
	authn     = "authentication.k8s.io"
	authzG    = "authorization.k8s.io"
	rbacGroup = rbacv1.GroupName
)

var (
	read      = []string{"get", "list", "watch"}
	readWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	write     = []string{"create", "delete", "deletecollection", "patch", "update"}
)

// rule builds a resource rule: verbs, groups, resources.
func rule(verbs []string, groups []string, resources ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources}
}

// named narrows a rule to resource names.
func named(r rbacv1.PolicyRule, names ...string) rbacv1.PolicyRule {
	r.ResourceNames = names
	return r
}

// urls builds a non-resource rule.
func urls(verbs []string, paths ...string) rbacv1.PolicyRule {
	return rbacv1.PolicyRule{Verbs: verbs, NonResourceURLs: paths}
}

func v(verbs ...string) []string  { return verbs }
func g(groups ...string) []string { return groups }

func eventsRule() rbacv1.PolicyRule {
	return rule(v("create", "update", "patch"), g(core, evGroup), "events")
}

// ClusterRoles returns upstream's bootstrap ClusterRoles (Kubernetes 1.32)
// that svcplane serves a use for, each labelled and annotated as upstream
// labels them.
func ClusterRoles() []*rbacv1.ClusterRole {
	var out []*rbacv1.ClusterRole
	for _, list := range [][]*rbacv1.ClusterRole{userRoles(), discoveryRoles(), componentRoles(), controllerRoles(), certificateRoles()} {
		out = append(out, list...)
	}
	for _, r := range out {
		bootstrapMeta(&r.ObjectMeta)
	}
	return out
}

func bootstrapMeta(m *metav1.ObjectMeta) {
	if m.Labels == nil {
		m.Labels = map[string]string{}
	}
	m.Labels[BootstrapLabel] = BootstrapLabelValue
	m.Annotations = map[string]string{rbacv1.AutoUpdateAnnotationKey: "true"}
}

func clusterRole(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
	return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
}

func labelled(r *rbacv1.ClusterRole, key string) *rbacv1.ClusterRole {
	r.Labels = map[string]string{key: "true"}
	return r
}

func aggregated(name, label string) *rbacv1.ClusterRole {
	r := clusterRole(name)
	r.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{
		{MatchLabels: map[string]string{label: "true"}},
	}}
	return r
}

func userRoles() []*rbacv1.ClusterRole {
	edit := aggregated("edit", AggregateToEdit)
	edit.Labels = map[string]string{AggregateToAdmin: "true"}
	view := aggregated("view", AggregateToView)
	view.Labels = map[string]string{AggregateToEdit: "true"}
	return []*rbacv1.ClusterRole{
		clusterRole("cluster-admin", rule(v("*"), g("*"), "*"), urls(v("*"), "*")),
		aggregated("admin", AggregateToAdmin), edit, view,
		labelled(clusterRole("system:aggregate-to-admin", aggregateToAdminRules()...), AggregateToAdmin),
		labelled(clusterRole("system:aggregate-to-edit", aggregateToEditRules()...), AggregateToEdit),
		labelled(clusterRole("system:aggregate-to-view", aggregateToViewRules()...), AggregateToView),
	}
}

func aggregateToAdminRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(v("create"), g(authzG), "localsubjectaccessreviews"),
		rule(readWrite, g(rbacGroup), "rolebindings", "roles"),
	}
}

func aggregateToEditRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(read, g(core), "pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"),
		rule(v("impersonate"), g(core), "serviceaccounts"),
		rule(write, g(core), "pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"),
		rule(v("create"), g(core), "pods/eviction"),
		rule(write, g(core), "configmaps", "events", "persistentvolumeclaims", "replicationcontrollers",
			"replicationcontrollers/scale", "secrets", "serviceaccounts", "services", "services/proxy"),
		rule(v("create"), g(core), "serviceaccounts/token"),
		rule(write, g(apps), "daemonsets", "deployments", "deployments/rollback", "deployments/scale",
			"replicasets", "replicasets/scale", "statefulsets", "statefulsets/scale"),
		rule(write, g("autoscaling"), "horizontalpodautoscalers"),
		rule(write, g("batch"), "cronjobs", "jobs"),
		rule(write, g("extensions"), "daemonsets", "deployments", "deployments/rollback", "deployments/scale",
			"ingresses", "networkpolicies", "replicasets", "replicasets/scale", "replicationcontrollers/scale"),
		rule(write, g("policy"), "poddisruptionbudgets"),
		rule(write, g("networking.k8s.io"), "ingresses", "networkpolicies"),
		rule(readWrite, g(coord), "leases"),
	}
}

func aggregateToViewRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(read, g(core), "configmaps", "endpoints", "persistentvolumeclaims", "persistentvolumeclaims/status", "pods",
			"replicationcontrollers", "replicationcontrollers/scale", "serviceaccounts", "services", "services/status"),
		rule(read, g(core), "bindings", "events", "limitranges", "namespaces/status", "pods/log", "pods/status",
			"replicationcontrollers/status", "resourcequotas", "resourcequotas/status"),
		rule(read, g(core), "namespaces"),
		rule(read, g(disc), "endpointslices"),
		rule(read, g(apps), "controllerrevisions", "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
			"deployments/status", "replicasets", "replicasets/scale", "replicasets/status", "statefulsets",
			"statefulsets/scale", "statefulsets/status"),
		rule(read, g("autoscaling"), "horizontalpodautoscalers", "horizontalpodautoscalers/status"),
		rule(read, g("batch"), "cronjobs", "cronjobs/status", "jobs", "jobs/status"),
		rule(read, g("extensions"), "daemonsets", "daemonsets/status", "deployments", "deployments/scale",
			"deployments/status", "ingresses", "ingresses/status", "networkpolicies", "replicasets",
			"replicasets/scale", "replicasets/status", "replicationcontrollers/scale"),
		rule(read, g("policy"), "poddisruptionbudgets", "poddisruptionbudgets/status"),
		rule(read, g("networking.k8s.io"), "ingresses", "ingresses/status", "networkpolicies"),
	}
}

func discoveryRoles() []*rbacv1.ClusterRole {
	return []*rbacv1.ClusterRole{
		clusterRole("system:discovery", urls(v("get"), "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez",
			"/openapi", "/openapi/*", "/readyz", "/version", "/version/")),
		clusterRole("system:public-info-viewer", urls(v("get"), "/healthz", "/livez", "/readyz", "/version", "/version/")),
		clusterRole("system:basic-user",
			rule(v("create"), g(authzG), "selfsubjectaccessreviews", "selfsubjectrulesreviews"),
			rule(v("create"), g(authn), "selfsubjectreviews")),
		clusterRole("system:monitoring", urls(v("get"), "/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
			"/metrics/slis", "/readyz", "/readyz/*")),
	}
}

func componentRoles() []*rbacv1.ClusterRole {
	return []*rbacv1.ClusterRole{
		clusterRole("system:node-proxier",
			rule(v("list", "watch"), g(core), "services", "endpoints"),
			rule(read, g(core), "nodes"),
			eventsRule(),
			rule(v("list", "watch"), g(disc), "endpointslices")),
		clusterRole("system:kube-dns", rule(v("list", "watch"), g(core), "endpoints", "services")),
		clusterRole("system:node", NodeRules()...),
		clusterRole("system:kube-controller-manager", controllerManagerRules()...),
		clusterRole("system:kube-scheduler", schedulerRules()...),
		clusterRole("system:auth-delegator",
			rule(v("create"), g(authn), "tokenreviews"),
			rule(v("create"), g(authzG), "subjectaccessreviews")),
		clusterRole("system:service-account-issuer-discovery", urls(v("get"), "/.well-known/openid-configuration",
			"/.well-known/openid-configuration/", "/openid/v1/jwks", "/openid/v1/jwks/")),
	}
}

// NodeRules are the rules of system:node, which the Node authorizer
// applies to node identities after its graph checks (the role itself is
// bound to no one).
func NodeRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(v("create"), g(authn), "tokenreviews"),
		rule(v("create"), g(authzG), "subjectaccessreviews", "localsubjectaccessreviews"),
		rule(read, g(core), "services"),
		rule(v("create", "get", "list", "watch"), g(core), "nodes"),
		rule(v("update", "patch"), g(core), "nodes/status"),
		rule(v("update", "patch"), g(core), "nodes"),
		rule(v("create", "update", "patch"), g(core), "events"),
		rule(read, g(core), "pods"),
		rule(v("create", "delete"), g(core), "pods"),
		rule(v("update", "patch"), g(core), "pods/status"),
		rule(v("create"), g(core), "pods/eviction"),
		rule(read, g(core), "secrets", "configmaps"),
		rule(v("get"), g(core), "persistentvolumeclaims", "persistentvolumes"),
		rule(v("get"), g(core), "endpoints"),
		rule(v("create", "get", "list", "watch"), g("certificates.k8s.io"), "certificatesigningrequests"),
		rule(v("get", "create", "update", "patch", "delete"), g(coord), "leases"),
		rule(v("get"), g("storage.k8s.io"), "volumeattachments"),
		rule(v("create"), g(core), "serviceaccounts/token"),
		rule(v("update", "patch"), g(core), "persistentvolumeclaims/status"),
		rule(v("get", "create", "update", "patch", "delete"), g("storage.k8s.io"), "csinodes"),
		rule(read, g("node.k8s.io"), "runtimeclasses"),
	}
}

func controllerManagerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		eventsRule(),
		rule(v("create"), g(coord), "leases"),
		named(rule(v("get", "update"), g(coord), "leases"), "kube-controller-manager"),
		rule(v("create"), g(core), "endpoints"),
		named(rule(v("get", "update"), g(core), "endpoints"), "kube-controller-manager"),
		rule(v("create"), g(core), "secrets", "serviceaccounts"),
		rule(v("delete"), g(core), "secrets"),
		rule(v("get"), g(core), "configmaps", "namespaces", "secrets", "serviceaccounts"),
		rule(v("update"), g(core), "secrets", "serviceaccounts"),
		rule(v("create"), g(authn), "tokenreviews"),
		rule(v("create"), g(authzG), "subjectaccessreviews"),
		rule(v("list", "watch"), g("*"), "*"),
		rule(v("create"), g(core), "serviceaccounts/token"),
	}
}

func schedulerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		eventsRule(),
		rule(v("create"), g(coord), "leases"),
		named(rule(v("get", "update"), g(coord), "leases"), "kube-scheduler"),
		rule(v("create"), g(core), "endpoints"),
		named(rule(v("get", "update"), g(core), "endpoints"), "kube-scheduler"),
		rule(read, g(core), "nodes"),
		rule(v("delete", "get", "list", "watch"), g(core), "pods"),
		rule(v("create"), g(core), "bindings", "pods/binding"),
		rule(v("patch", "update"), g(core), "pods/status"),
		rule(read, g(core), "replicationcontrollers", "services"),
		rule(read, g(apps, "extensions"), "replicasets"),
		rule(read, g(apps), "statefulsets"),
		rule(read, g("policy"), "poddisruptionbudgets"),
		rule(read, g(core), "persistentvolumeclaims", "persistentvolumes"),
		rule(v("create"), g(authn), "tokenreviews"),
		rule(v("create"), g(authzG), "subjectaccessreviews"),
		rule(read, g("storage.k8s.io"), "csinodes"),
		rule(read, g(core), "namespaces"),
		rule(read, g("storage.k8s.io"), "csidrivers", "csistoragecapacities"),
	}
}
