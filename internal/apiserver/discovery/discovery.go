// Package discovery serves the API discovery documents clients read before
// they can name a resource: /api, /apis, /apis/<group> and the resource
// lists of every group version, all derived from the registry's list of
// served resources.
//
// Legacy discovery (APIVersions, APIGroupList, APIGroup, APIResourceList)
// is always served. When the Accept header asks for aggregated discovery
// (apidiscovery.k8s.io/v2 APIGroupDiscoveryList), /api and /apis answer
// with it and say so in Content-Type; client-go picks the format from that
// header, so clients that cannot read v2 never get it.
package discovery

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Discovery serves the discovery documents of a fixed set of resources. It
// is safe for concurrent use.
type Discovery struct {
	core   *group   // the legacy core group, nil if nothing is served there
	groups []*group // named groups, in the order resources listed them
	mux    *http.ServeMux
}

// group is one API group and the resources of each of its versions.
type group struct {
	name     string
	versions []*groupVersion // the first is the preferred one
}

type groupVersion struct {
	gv        schema.GroupVersion
	resources []*registry.Resource // sorted by name
}

// New returns the discovery documents of resources.
func New(resources []*registry.Resource) *Discovery {
	d := &Discovery{mux: http.NewServeMux()}
	for _, r := range resources {
		d.add(r)
	}
	for _, g := range d.allGroups() {
		for _, v := range g.versions {
			slices.SortStableFunc(v.resources, func(a, b *registry.Resource) int {
				return strings.Compare(a.Name, b.Name)
			})
		}
	}
	d.Register(d.mux)
	d.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeNotFound(w) })
	return d
}

// Register adds the discovery routes to mux:
//
//	GET /api                      APIVersions (or aggregated core group)
//	GET /api/{version}            APIResourceList of the core group
//	GET /apis                     APIGroupList (or aggregated named groups)
//	GET /apis/{group}             APIGroup
//	GET /apis/{group}/{version}   APIResourceList
func (d *Discovery) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /api", d.serveAPI)
	mux.HandleFunc("GET /api/{version}", d.serveCoreVersion)
	mux.HandleFunc("GET /apis", d.serveAPIs)
	mux.HandleFunc("GET /apis/{group}", d.serveGroup)
	mux.HandleFunc("GET /apis/{group}/{version}", d.serveGroupVersion)
}

// ServeHTTP serves the routes Register lists and answers 404 NotFound to
// anything else.
func (d *Discovery) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.mux.ServeHTTP(w, r)
}

func (d *Discovery) add(r *registry.Resource) {
	g := d.groupNamed(r.GroupVersion.Group)
	if g == nil {
		g = &group{name: r.GroupVersion.Group}
		if g.name == "" {
			d.core = g
		} else {
			d.groups = append(d.groups, g)
		}
	}
	v := g.version(r.GroupVersion.Version)
	if v == nil {
		v = &groupVersion{gv: r.GroupVersion}
		g.versions = append(g.versions, v)
	}
	v.resources = append(v.resources, r)
}

func (d *Discovery) groupNamed(name string) *group {
	if name == "" {
		return d.core
	}
	for _, g := range d.groups {
		if g.name == name {
			return g
		}
	}
	return nil
}

func (d *Discovery) allGroups() []*group {
	if d.core == nil {
		return d.groups
	}
	return append([]*group{d.core}, d.groups...)
}

func (g *group) version(v string) *groupVersion {
	if g == nil {
		return nil
	}
	for _, gv := range g.versions {
		if gv.gv.Version == v {
			return gv
		}
	}
	return nil
}

func (d *Discovery) serveAPI(w http.ResponseWriter, r *http.Request) {
	if wantsAggregated(r.Header) {
		writeAggregated(w, aggregatedList(d.core))
		return
	}
	writeJSON(w, http.StatusOK, apiVersions(d.core, r.Host))
}

func (d *Discovery) serveAPIs(w http.ResponseWriter, r *http.Request) {
	if wantsAggregated(r.Header) {
		writeAggregated(w, aggregatedList(d.groups...))
		return
	}
	writeJSON(w, http.StatusOK, apiGroupList(d.groups))
}

func (d *Discovery) serveGroup(w http.ResponseWriter, r *http.Request) {
	g := d.groupNamed(r.PathValue("group"))
	if g == nil || g.name == "" {
		writeNotFound(w)
		return
	}
	doc := apiGroup(g)
	doc.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
	writeJSON(w, http.StatusOK, doc)
}

func (d *Discovery) serveCoreVersion(w http.ResponseWriter, r *http.Request) {
	d.serveResourceList(w, d.core.version(r.PathValue("version")))
}

func (d *Discovery) serveGroupVersion(w http.ResponseWriter, r *http.Request) {
	g := d.groupNamed(r.PathValue("group"))
	if g == nil || g.name == "" {
		writeNotFound(w)
		return
	}
	d.serveResourceList(w, g.version(r.PathValue("version")))
}

func (d *Discovery) serveResourceList(w http.ResponseWriter, v *groupVersion) {
	if v == nil {
		writeNotFound(w)
		return
	}
	writeJSON(w, http.StatusOK, apiResourceList(v))
}

// writeJSON answers with obj encoded as JSON.
func writeJSON(w http.ResponseWriter, code int, obj any) {
	writeEncoded(w, code, "application/json", obj)
}

func writeEncoded(w http.ResponseWriter, code int, contentType string, obj any) {
	data, err := json.Marshal(obj)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Add("Vary", "Accept")
	w.WriteHeader(code)
	w.Write(data)
}

// writeNotFound answers 404 with a NotFound Status, as kube-apiserver does
// for paths it does not serve.
func writeNotFound(w http.ResponseWriter) {
	err := apierrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{}, "", "", 0, false)
	status := err.Status()
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	writeJSON(w, http.StatusNotFound, &status)
}
