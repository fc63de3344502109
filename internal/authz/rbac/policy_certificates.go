package rbac

import (
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const certGroup = "certificates.k8s.io"

// The signers of certificates.k8s.io/v1.
const (
	signerKubeletClient = "kubernetes.io/kube-apiserver-client-kubelet"
	signerClient        = "kubernetes.io/kube-apiserver-client"
	signerServing       = "kubernetes.io/kubelet-serving"
	signerLegacy        = "kubernetes.io/legacy-unknown"
)

// Names of upstream's CSR ClusterRoles.
const (
	NodeBootstrapperRole = "system:node-bootstrapper"
	NodeClientRole       = "system:certificates.k8s.io:certificatesigningrequests:nodeclient"
	SelfNodeClientRole   = "system:certificates.k8s.io:certificatesigningrequests:selfnodeclient"
)

// certificateRoles are upstream's bootstrap ClusterRoles of the
// certificates API: a bootstrapper's, the two the csrapproving controller
// reviews, and one approver role per signer.
func certificateRoles() []*rbacv1.ClusterRole {
	approver := func(signer, suffix string) *rbacv1.ClusterRole {
		return clusterRole("system:certificates.k8s.io:"+suffix, named(rule(v("approve"), g(certGroup), "signers"), signer))
	}
	return []*rbacv1.ClusterRole{
		clusterRole(NodeBootstrapperRole, rule(v("create", "get", "list", "watch"), g(certGroup), "certificatesigningrequests")),
		clusterRole(NodeClientRole, rule(v("create"), g(certGroup), "certificatesigningrequests/nodeclient")),
		clusterRole(SelfNodeClientRole, rule(v("create"), g(certGroup), "certificatesigningrequests/selfnodeclient")),
		approver(signerClient, "kube-apiserver-client-approver"),
		approver(signerKubeletClient, "kube-apiserver-client-kubelet-approver"),
		approver(signerServing, "kubelet-serving-approver"),
		approver(signerLegacy, "legacy-unknown-approver"),
	}
}

// certificateControllerRules are upstream's system:controller:certificate-controller
// (csrapproving, csrsigning, csrcleaner).
func certificateControllerRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		rule(v("delete", "get", "list", "watch"), g(certGroup), "certificatesigningrequests"),
		rule(v("update"), g(certGroup), "certificatesigningrequests/approval", "certificatesigningrequests/status"),
		// svcplane's approver also approves node serving requests
		// (upstream's approves none) and reads Nodes to check their SANs.
		named(rule(v("approve"), g(certGroup), "signers"), signerKubeletClient, signerServing),
		rule(v("get", "list", "watch"), g(core), "nodes"),
		named(rule(v("sign"), g(certGroup), "signers"), signerLegacy, signerClient, signerKubeletClient, signerServing),
		rule(v("create"), g(authzG), "subjectaccessreviews"),
		eventsRule(),
	}
}

// Groups and names of kubeadm's node bootstrap policy.
const (
	BootstrapDefaultGroup = "system:bootstrappers:kubeadm:default-node-token"
	ClusterInfoRole       = "kubeadm:bootstrap-signer-clusterinfo"
)

// KubeadmClusterRoleBindings are the bindings kubeadm init makes for
// joining nodes: its default token's group may create CSRs (and have the
// node client ones approved) and get Nodes; nodes may have their renewed
// client certificates approved. svcplane adds one: nodes' credentials
// run the proxy on joined nodes (system:node-proxier).
func KubeadmClusterRoleBindings() []*rbacv1.ClusterRoleBinding {
	return []*rbacv1.ClusterRoleBinding{
		binding("kubeadm:kubelet-bootstrap", NodeBootstrapperRole, group(BootstrapDefaultGroup)),
		binding("kubeadm:node-autoapprove-bootstrap", NodeClientRole, group(BootstrapDefaultGroup)),
		binding("kubeadm:node-autoapprove-certificate-rotation", SelfNodeClientRole, group("system:nodes")),
		binding("kubeadm:get-nodes", "kubeadm:get-nodes", group(BootstrapDefaultGroup)),
		binding("svcplane:node-proxier", "system:node-proxier", group("system:nodes")),
	}
}

// KubeadmClusterRoles are kubeadm's own ClusterRoles.
func KubeadmClusterRoles() []*rbacv1.ClusterRole {
	return []*rbacv1.ClusterRole{clusterRole("kubeadm:get-nodes", rule(v("get"), g(core), "nodes"))}
}

// KubeadmRoles is the Role that lets anyone read kube-public/cluster-info.
// svcplane adds one: nodes read the kube-proxy ConfigMap, which a joined
// node's proxy follows (kubeadm's proxy is a pod with an account of its
// own).
func KubeadmRoles() []*rbacv1.Role {
	return []*rbacv1.Role{{
		ObjectMeta: metav1.ObjectMeta{Name: ClusterInfoRole, Namespace: metav1.NamespacePublic},
		Rules:      []rbacv1.PolicyRule{named(rule(v("get"), g(core), "configmaps"), "cluster-info")},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: NodesKubeProxyConfigRole, Namespace: metav1.NamespaceSystem},
		Rules:      []rbacv1.PolicyRule{named(rule(read, g(core), "configmaps"), "kube-proxy")},
	}}
}

// NodesKubeProxyConfigRole lets nodes read kube-system/kube-proxy.
const NodesKubeProxyConfigRole = "svcplane:nodes-kube-proxy-config"

// KubeadmRoleBindings bind them: cluster-info to system:anonymous, the
// kube-proxy ConfigMap to system:nodes.
func KubeadmRoleBindings() []*rbacv1.RoleBinding {
	return []*rbacv1.RoleBinding{{
		ObjectMeta: metav1.ObjectMeta{Name: ClusterInfoRole, Namespace: metav1.NamespacePublic},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "Role", Name: ClusterInfoRole},
		Subjects:   []rbacv1.Subject{user("system:anonymous")},
	}, {
		ObjectMeta: metav1.ObjectMeta{Name: NodesKubeProxyConfigRole, Namespace: metav1.NamespaceSystem},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacGroup, Kind: "Role", Name: NodesKubeProxyConfigRole},
		Subjects:   []rbacv1.Subject{group("system:nodes")},
	}}
}
