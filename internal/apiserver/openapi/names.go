package openapi

import (
	"reflect"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

const extensionGVK = "x-kubernetes-group-version-kind"

// namer names definitions as kube-apiserver does (io.k8s.api.core.v1.Service)
// and tags those of the scheme's kinds with x-kubernetes-group-version-kind,
// the list of every group version and kind the type is registered as,
// which kubectl explain and client-side validation look types up by.
type namer struct {
	kinds map[string][]schema.GroupVersionKind // by definition name
}

func newNamer(scheme *runtime.Scheme) *namer {
	n := &namer{kinds: map[string][]schema.GroupVersionKind{}}
	for gvk, t := range scheme.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		name := modelName(reflect.New(t).Interface())
		if !slices.Contains(n.kinds[name], gvk) {
			n.kinds[name] = append(n.kinds[name], gvk)
		}
	}
	for _, gvks := range n.kinds {
		slices.SortFunc(gvks, compareGVK)
	}
	return n
}

// definitionName is common.Config's GetDefinitionName.
func (n *namer) definitionName(name string) (string, spec.Extensions) {
	name = friendlyName(name)
	gvks := n.kinds[name]
	if len(gvks) == 0 {
		return name, nil
	}
	list := make([]any, 0, len(gvks))
	for _, gvk := range gvks {
		list = append(list, gvkExtension(gvk))
	}
	return name, spec.Extensions{extensionGVK: list}
}

// modelName is the definition name of a Go object: its OpenAPIModelName
// when the type has one (every type of k8s.io/api does), else the
// REST-friendly form of its package path and type name.
func modelName(obj any) string {
	return friendlyName(util.GetCanonicalTypeName(obj))
}

// friendlyName turns a Go name (k8s.io/api/core/v1.Service) into a
// definition name (io.k8s.api.core.v1.Service); model names, which have
// no slash, are already definition names.
func friendlyName(name string) string {
	if !strings.Contains(name, "/") {
		return name
	}
	return util.ToRESTFriendlyName(name)
}

// gvkExtension is the value of x-kubernetes-group-version-kind for one kind.
func gvkExtension(gvk schema.GroupVersionKind) map[string]any {
	return map[string]any{"group": gvk.Group, "version": gvk.Version, "kind": gvk.Kind}
}

func compareGVK(a, b schema.GroupVersionKind) int {
	if c := strings.Compare(a.Group, b.Group); c != 0 {
		return c
	}
	if c := strings.Compare(a.Version, b.Version); c != 0 {
		return c
	}
	return strings.Compare(a.Kind, b.Kind)
}
