package gc

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
)

// Resource is one served resource, as discovery describes it.
type Resource struct {
	GVR        schema.GroupVersionResource
	Kind       string
	Namespaced bool
	Verbs      []string
}

// Has says whether the resource supports a verb.
func (r Resource) Has(verb string) bool { return slices.Contains(r.Verbs, verb) }

// GVK is the resource's group, version and kind.
func (r Resource) GVK() schema.GroupVersionKind { return r.GVR.GroupVersion().WithKind(r.Kind) }

// Discover lists the served resources (not subresources) in their
// preferred versions. A partial failure returns what was found with the
// error.
func Discover(d discovery.DiscoveryInterface) ([]Resource, error) {
	lists, err := d.ServerPreferredResources()
	return fromLists(lists), err
}

func fromLists(lists []*metav1.APIResourceList) []Resource {
	var out []Resource
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range list.APIResources {
			if strings.Contains(r.Name, "/") {
				continue
			}
			out = append(out, Resource{GVR: gv.WithResource(r.Name), Kind: r.Kind, Namespaced: r.Namespaced, Verbs: r.Verbs})
		}
	}
	return out
}

// Mapper finds a resource by kind.
type Mapper struct {
	byKind map[schema.GroupKind]Resource
}

// NewMapper indexes resources by group and kind.
func NewMapper(resources []Resource) *Mapper {
	m := &Mapper{byKind: map[schema.GroupKind]Resource{}}
	for _, r := range resources {
		m.byKind[r.GVK().GroupKind()] = r
	}
	return m
}

// ForOwner is the resource an owner reference names.
func (m *Mapper) ForOwner(ref metav1.OwnerReference) (Resource, error) {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return Resource{}, fmt.Errorf("owner reference %s/%s: %w", ref.Kind, ref.Name, err)
	}
	r, ok := m.byKind[schema.GroupKind{Group: gv.Group, Kind: ref.Kind}]
	if !ok {
		return Resource{}, fmt.Errorf("owner kind %s.%s is not served", ref.Kind, gv.Group)
	}
	return r, nil
}
