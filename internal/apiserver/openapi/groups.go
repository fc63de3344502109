package openapi

import (
	"net/http"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/kube-openapi/pkg/common"
)

// The discovery and version paths kube-apiserver documents besides the
// resources: each is its own OpenAPI v3 document (api, apis, apis/<group>,
// version), and each group version's document has its resource list.

// discoveryRoute is a GET answering with model in JSON, YAML or protobuf.
func discoveryRoute(path, id, tag, description string, model any) *route {
	return &route{method: http.MethodGet, path: path, id: id, tag: tag, description: description,
		produces: objectMedia(), responses: objectResponses(model)}
}

// groupVersionRoute is GET /api/v1/, /apis/apps/v1/: the APIResourceList.
func groupVersionRoute(gv schema.GroupVersion) *route {
	return discoveryRoute(apiPrefix(gv)+"/", "get"+groupPrefix(gv.Group)+capitalize(gv.Version)+"APIResources",
		tag(gv), "get available resources", &metav1.APIResourceList{})
}

// discoveryContainers returns the containers of /api/, /apis/, each
// named group's /apis/<group>/ and /version/, keyed by their v3 document
// path.
func discoveryContainers(groups []string) map[string]*container {
	out := map[string]*container{
		"version": {root: "/version", routes: []common.Route{&route{method: http.MethodGet, path: "/version/",
			id: "getCodeVersion", tag: "version", description: "get the version information for this server",
			produces: []string{"application/json"}, responses: objectResponses(&version.Info{})}}},
	}
	for _, g := range groups {
		if g == "" {
			out["api"] = &container{root: "/api", routes: []common.Route{discoveryRoute("/api/", "getCoreAPIVersions", "core",
				"get available API versions", &metav1.APIVersions{})}}
			continue
		}
		out["apis/"+g] = &container{root: "/apis/" + g, routes: []common.Route{discoveryRoute("/apis/"+g+"/",
			"get"+groupPrefix(g)+"APIGroup", groupTag(g), "get information of a group", &metav1.APIGroup{})}}
		if out["apis"] == nil {
			out["apis"] = &container{root: "/apis", routes: []common.Route{discoveryRoute("/apis/", "getAPIVersions", "apis",
				"get available API versions", &metav1.APIGroupList{})}}
		}
	}
	return out
}
