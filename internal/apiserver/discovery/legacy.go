package discovery

import (
	"crypto/sha256"
	"encoding/base64"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// apiVersions is the /api document. serverAddress is where the client
// reached us (the request's Host).
func apiVersions(core *group, serverAddress string) *metav1.APIVersions {
	doc := &metav1.APIVersions{
		TypeMeta: metav1.TypeMeta{Kind: "APIVersions", APIVersion: "v1"},
		Versions: []string{},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{
			{ClientCIDR: "0.0.0.0/0", ServerAddress: serverAddress},
		},
	}
	if core != nil {
		for _, v := range core.versions {
			doc.Versions = append(doc.Versions, v.gv.Version)
		}
	}
	return doc
}

// apiGroupList is the /apis document.
func apiGroupList(groups []*group) *metav1.APIGroupList {
	doc := &metav1.APIGroupList{
		TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"},
		Groups:   []metav1.APIGroup{},
	}
	for _, g := range groups {
		doc.Groups = append(doc.Groups, apiGroup(g))
	}
	return doc
}

// apiGroup describes g and its versions, the first preferred.
func apiGroup(g *group) metav1.APIGroup {
	out := metav1.APIGroup{Name: g.name}
	for _, v := range g.versions {
		out.Versions = append(out.Versions, metav1.GroupVersionForDiscovery{
			GroupVersion: v.gv.String(),
			Version:      v.gv.Version,
		})
	}
	if len(out.Versions) > 0 {
		out.PreferredVersion = out.Versions[0]
	}
	return out
}

// apiResourceList is the /api/<v> or /apis/<g>/<v> document: each resource
// followed by its subresources.
func apiResourceList(v *groupVersion) *metav1.APIResourceList {
	doc := &metav1.APIResourceList{
		TypeMeta:     metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"},
		GroupVersion: v.gv.String(),
		APIResources: []metav1.APIResource{},
	}
	for _, r := range v.resources {
		doc.APIResources = append(doc.APIResources, mainResource(r))
		for _, sub := range sortedSubresources(r) {
			doc.APIResources = append(doc.APIResources, subresource(r, sub))
		}
	}
	return doc
}

func mainResource(r *registry.Resource) metav1.APIResource {
	out := metav1.APIResource{
		Name:               r.Name,
		SingularName:       r.Singular,
		Namespaced:         r.Namespaced,
		Kind:               r.Kind,
		Verbs:              r.ServedVerbs(),
		ShortNames:         r.ShortNames,
		Categories:         r.Categories,
		StorageVersionHash: storageVersionHash(r.GroupVersionKind()),
	}
	if r.Review != nil {
		out.StorageVersionHash = ""
	}
	return out
}

// subresource describes r/sub. Group and version are set only when its
// kind is from another group version, as upstream does for scale.
func subresource(r *registry.Resource, sub string) metav1.APIResource {
	gvk, verbs := describeSubresource(r.GroupVersionKind(), sub)
	out := metav1.APIResource{
		Name:       r.Name + "/" + sub,
		Namespaced: r.Namespaced,
		Kind:       gvk.Kind,
		Verbs:      verbs,
	}
	if gvk.GroupVersion() != r.GroupVersion {
		out.Group, out.Version = gvk.Group, gvk.Version
	}
	return out
}

// describeSubresource returns the kind a subresource of a parent kind
// answers with, and its verbs, as kube-apiserver has them.
func describeSubresource(parent schema.GroupVersionKind, sub string) (schema.GroupVersionKind, []string) {
	getPatchUpdate := []string{"get", "patch", "update"}
	sameGV := parent.GroupVersion()
	switch sub {
	case "scale":
		return schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, getPatchUpdate
	case "log":
		return parent, []string{"get"}
	case "exec":
		return sameGV.WithKind("PodExecOptions"), []string{"create", "get"}
	case "attach":
		return sameGV.WithKind("PodAttachOptions"), []string{"create", "get"}
	case "portforward":
		return sameGV.WithKind("PodPortForwardOptions"), []string{"create", "get"}
	case "proxy":
		return sameGV.WithKind(parent.Kind + "ProxyOptions"), []string{"create", "delete", "get", "patch", "update"}
	case "binding":
		return sameGV.WithKind("Binding"), []string{"create"}
	case "eviction":
		return schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, []string{"create"}
	case "token":
		return schema.GroupVersionKind{Group: "authentication.k8s.io", Version: "v1", Kind: "TokenRequest"}, []string{"create"}
	default: // status, ephemeralcontainers, resize, ...
		return parent, getPatchUpdate
	}
}

func sortedSubresources(r *registry.Resource) []string {
	subs := slices.Clone(r.Subresources)
	slices.Sort(subs)
	return slices.Compact(subs)
}

// storageVersionHash is kube-apiserver's hash of the storage version: the
// first 8 bytes of sha256("<group>/<version>/<kind>"), base64-encoded.
// Clients only compare it for changes.
func storageVersionHash(gvk schema.GroupVersionKind) string {
	sum := sha256.Sum256([]byte(gvk.Group + "/" + gvk.Version + "/" + gvk.Kind))
	return base64.StdEncoding.EncodeToString(sum[:8])
}
