package rbac

import (
	"maps"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ControllerRolePrefix names the roles of kube-controller-manager's
// controllers, each bound upstream to the ServiceAccount kube-system/<name>.
const ControllerRolePrefix = "system:controller:"

// controllerRoles are upstream's roles of the controllers svcplane runs.
func controllerRoles() []*rbacv1.ClusterRole {
	rules := controllerRules()
	var out []*rbacv1.ClusterRole
	for _, name := range ControllerNames() {
		out = append(out, clusterRole(ControllerRolePrefix+name, rules[name]...))
	}
	return out
}

// ControllerNames are the controllers whose roles the bootstrap policy
// holds.
func ControllerNames() []string {
	return slices.Sorted(maps.Keys(controllerRules()))
}

func controllerRules() map[string][]rbacv1.PolicyRule {
	return map[string][]rbacv1.PolicyRule{
		"certificate-controller": certificateControllerRules(),
		"clusterrole-aggregation-controller": {
			rule(v("escalate", "get", "list", "patch", "update", "watch"), g(rbacGroup), "clusterroles"),
		},
		"deployment-controller": {
			rule(v("get", "list", "update", "watch"), g(apps, "extensions"), "deployments"),
			rule(v("update"), g(apps, "extensions"), "deployments/status"),
			rule(v("create", "delete", "get", "list", "patch", "update", "watch"), g(apps, "extensions"), "replicasets"),
			rule(v("get", "list", "update", "watch"), g(core), "pods"),
			eventsRule(),
		},
		"endpoint-controller": {
			rule(read, g(core), "services", "pods"),
			rule(v("create", "delete", "get", "list", "update"), g(core), "endpoints"),
			rule(v("create"), g(core), "endpoints/restricted"),
			eventsRule(),
		},
		"endpointslice-controller": {
			rule(read, g(core), "services", "pods", "nodes"),
			rule(v("create", "delete", "get", "list", "update"), g(disc), "endpointslices"),
			rule(v("update"), g(core), "services/finalizers"),
			eventsRule(),
		},
		"endpointslicemirroring-controller": {
			rule(read, g(core), "services", "endpoints"),
			rule(v("create", "delete", "get", "list", "update"), g(disc), "endpointslices"),
			rule(v("update"), g(core), "endpoints/finalizers"),
			eventsRule(),
		},
		"generic-garbage-collector": {
			rule(v("delete", "get", "list", "patch", "update", "watch"), g("*"), "*"),
		},
		"namespace-controller": {
			rule(v("delete", "get", "list", "watch"), g(core), "namespaces"),
			rule(v("update"), g(core), "namespaces/finalize", "namespaces/status"),
			rule(v("delete", "deletecollection", "get", "list"), g("*"), "*"),
		},
		"node-controller": {
			rule(v("delete", "get", "list", "patch", "update"), g(core), "nodes"),
			rule(v("patch", "update"), g(core), "nodes/status"),
			rule(v("patch", "update"), g(core), "pods/status"),
			rule(v("delete", "list"), g(core), "pods"),
			rule(v("get"), g(core), "pods"),
			eventsRule(),
		},
		"pod-garbage-collector": {
			rule(v("delete", "list", "watch"), g(core), "pods"),
			rule(v("get", "list"), g(core), "nodes"),
			rule(v("patch"), g(core), "pods/status"),
		},
		"replicaset-controller": {
			rule(v("get", "list", "update", "watch"), g(apps, "extensions"), "replicasets"),
			rule(v("update"), g(apps, "extensions"), "replicasets/status"),
			rule(v("update"), g(apps, "extensions"), "replicasets/finalizers"),
			rule(v("create", "delete", "list", "patch", "watch"), g(core), "pods"),
			eventsRule(),
		},
		"replication-controller": {
			rule(v("get", "list", "update", "watch"), g(core), "replicationcontrollers"),
			rule(v("update"), g(core), "replicationcontrollers/status"),
			rule(v("update"), g(core), "replicationcontrollers/finalizers"),
			rule(v("create", "delete", "list", "patch", "watch"), g(core), "pods"),
			eventsRule(),
		},
		"root-ca-cert-publisher": {
			rule(v("create", "update"), g(core), "configmaps"),
			eventsRule(),
		},
		"service-account-controller": {
			rule(v("create"), g(core), "serviceaccounts"),
			eventsRule(),
		},
		"service-controller": {
			rule(read, g(core), "services"),
			rule(v("patch", "update"), g(core), "services/status"),
			rule(v("list", "watch"), g(core), "nodes"),
			eventsRule(),
		},
	}
}

// ClusterRoleBindings returns upstream's bootstrap bindings of the roles
// ClusterRoles returns (system:node is bound to no one: the Node
// authorizer grants its rules).
func ClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	out := []*rbacv1.ClusterRoleBinding{
		binding("cluster-admin", "cluster-admin", group("system:masters")),
		binding("system:discovery", "system:discovery", group("system:authenticated")),
		binding("system:basic-user", "system:basic-user", group("system:authenticated")),
		binding("system:public-info-viewer", "system:public-info-viewer", group("system:authenticated"), group("system:unauthenticated")),
		binding("system:monitoring", "system:monitoring", group("system:monitoring")),
		binding("system:node-proxier", "system:node-proxier", user("system:kube-proxy")),
		binding("system:kube-controller-manager", "system:kube-controller-manager", user("system:kube-controller-manager")),
		binding("system:kube-scheduler", "system:kube-scheduler", user("system:kube-scheduler")),
		binding("system:kube-dns", "system:kube-dns", serviceAccount("kube-system", "kube-dns")),
		binding("system:node", "system:node"),
		binding("system:service-account-issuer-discovery", "system:service-account-issuer-discovery", group("system:serviceaccounts")),
	}
	for _, name := range ControllerNames() {
		out = append(out, binding(ControllerRolePrefix+name, ControllerRolePrefix+name, serviceAccount("kube-system", name)))
	}
	for _, b := range out {
		bootstrapMeta(&b.ObjectMeta)
	}
	return out
}

func binding(name, role string, subjects ...rbacv1.Subject) *rbacv1.ClusterRoleBinding {
	return &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "ClusterRole", Name: role},
		Subjects:   subjects,
	}
}

func group(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacGroup, Name: name}
}

func user(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacGroup, Name: name}
}

func serviceAccount(ns, name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}
}
