// Package satoken issues and checks service account tokens as
// kube-apiserver does: RS256 JWTs signed with the cluster's service
// account key (sa.key), with the issuer, audiences and expiry of the
// request and the private "kubernetes.io" claim naming the
// ServiceAccount and the object the token is bound to (a Pod, with its
// Node, a Secret or a Node).
//
// A token is accepted only while its ServiceAccount, and the object it
// is bound to, still exist with the UIDs it names (objects being deleted
// count for 60 seconds more, as upstream's leeway). The user it
// authenticates as is system:serviceaccount:<namespace>:<name> in the
// groups system:serviceaccounts and system:serviceaccounts:<namespace>.
package satoken
