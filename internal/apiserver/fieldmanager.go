package apiserver

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// fieldManagers builds the managed-fields trackers of a resource: one for
// the main resource and one per status subresource, each ignoring the
// fields the other owns.
func (s *Server) fieldManagers(def *registry.Resource, tc managedfields.TypeConverter) (map[string]*managedfields.FieldManager, error) {
	gvk := def.GroupVersionKind()
	apiVersion := fieldpath.APIVersion(def.GroupVersion.String())
	status := fieldpath.NewSet(fieldpath.MakePathOrDie("status"))
	spec := fieldpath.NewSet(fieldpath.MakePathOrDie("spec"))
	out := map[string]*managedfields.FieldManager{}
	subs := map[string]map[fieldpath.APIVersion]fieldpath.Filter{"": nil}
	if def.HasSubresource("status") {
		subs[""] = map[fieldpath.APIVersion]fieldpath.Filter{apiVersion: fieldpath.NewExcludeSetFilter(status)}
		subs["status"] = map[fieldpath.APIVersion]fieldpath.Filter{apiVersion: fieldpath.NewExcludeSetFilter(spec)}
	}
	for sub := range def.SubresourceUpdates {
		subs[sub] = map[fieldpath.APIVersion]fieldpath.Filter{apiVersion: fieldpath.NewExcludeSetFilter(spec)}
	}
	for sub, reset := range subs {
		fm, err := managedfields.NewDefaultFieldManager(tc, s.codec.Scheme, defaulter{def.Strategy}, s.codec.Scheme, gvk, gvk.GroupVersion(), sub, reset)
		if err != nil {
			return nil, err
		}
		out[sub] = fm
	}
	return out, nil
}

// defaulter runs a strategy's defaults for the field manager.
type defaulter struct{ s registry.Strategy }

func (d defaulter) Default(obj runtime.Object) { d.s.Default(obj) }
