package openapi

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/builtin"
	"github.com/svcplane/svcplane/internal/apiserver/codec"
	"github.com/svcplane/svcplane/internal/apiserver/discovery"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// testOpenAPI is the documents of every built-in resource, built once for
// all tests (building takes a second, several under -race).
var testOpenAPI = sync.OnceValue(func() *OpenAPI {
	return New(Config{Resources: builtin.Resources(builtin.Config{}), Scheme: codec.New().Scheme, Version: "v1.32.4"})
})

func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(testOpenAPI())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func rootDoc(t *testing.T, srv *httptest.Server) rootDocument {
	t.Helper()
	_, body := get(t, srv.URL+"/openapi/v3", nil)
	var root rootDocument
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return root
}

// v3Doc fetches one v3 document through its discovery URL.
func v3Doc(t *testing.T, srv *httptest.Server, key string) map[string]any {
	t.Helper()
	path, ok := rootDoc(t, srv).Paths[key]
	if !ok {
		t.Fatalf("no document %s", key)
	}
	resp, body := get(t, srv.URL+path.ServerRelativeURL, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d %s", key, resp.StatusCode, body)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// lookup walks a decoded JSON document along keys.
func lookup(doc any, keys ...string) any {
	for _, k := range keys {
		m, ok := doc.(map[string]any)
		if !ok {
			return nil
		}
		doc = m[k]
	}
	return doc
}

func TestDiscoveryDocument(t *testing.T) {
	root := rootDoc(t, startServer(t))
	var keys []string
	for k, p := range root.Paths {
		keys = append(keys, k)
		if !strings.HasPrefix(p.ServerRelativeURL, "/openapi/v3/"+k+"?hash=") {
			t.Errorf("%s: serverRelativeURL %q", k, p.ServerRelativeURL)
		}
	}
	for _, want := range []string{"api", "api/v1", "apis", "apis/apps", "apis/apps/v1", "apis/discovery.k8s.io/v1",
		"apis/coordination.k8s.io/v1", "version"} {
		if !slices.Contains(keys, want) {
			t.Errorf("paths %v lack %s", keys, want)
		}
	}
}

// TestDefinitions checks definitions as kube-apiserver names and tags them:
// descriptions from k8s.io/api, the kind extension, and the list and
// patch extensions the generator carries over.
func TestDefinitions(t *testing.T) {
	srv := startServer(t)
	core := v3Doc(t, srv, "api/v1")
	schemas := lookup(core, "components", "schemas")
	service := lookup(schemas, "io.k8s.api.core.v1.Service")
	if d, _ := lookup(service, "description").(string); !strings.HasPrefix(d, "Service is a named abstraction of software service") {
		t.Errorf("Service description %q", d)
	}
	wantGVK := []any{map[string]any{"group": "", "version": "v1", "kind": "Service"}}
	if diff := cmp.Diff(wantGVK, lookup(service, extensionGVK)); diff != "" {
		t.Errorf("Service kind extension (-want +got):\n%s", diff)
	}
	ports := lookup(schemas, "io.k8s.api.core.v1.ServiceSpec", "properties", "ports")
	for k, want := range map[string]any{
		"x-kubernetes-patch-merge-key": "port", "x-kubernetes-patch-strategy": "merge",
		"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": []any{"port", "protocol"},
	} {
		if diff := cmp.Diff(want, lookup(ports, k)); diff != "" {
			t.Errorf("ServiceSpec.ports %s (-want +got):\n%s", k, diff)
		}
	}
	if _, ok := lookup(schemas, "io.k8s.api.apps.v1.Deployment").(map[string]any); ok {
		t.Error("core/v1 document carries apps/v1 Deployment")
	}
	apps := v3Doc(t, srv, "apis/apps/v1")
	strategy := lookup(apps, "components", "schemas", "io.k8s.api.apps.v1.DeploymentStrategy", "properties")
	for _, field := range []string{"type", "rollingUpdate"} {
		if lookup(strategy, field) == nil {
			t.Errorf("DeploymentStrategy lacks %s", field)
		}
	}
	deleteOptions := lookup(apps, "components", "schemas", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions", extensionGVK)
	if !slices.ContainsFunc(deleteOptions.([]any), func(v any) bool {
		return cmp.Equal(v, map[string]any{"group": "apps", "version": "v1", "kind": "DeleteOptions"})
	}) {
		t.Errorf("DeleteOptions kinds %v lack apps/v1", deleteOptions)
	}
}

// operation returns "METHOD path" of doc's operation id, its action and
// kind extensions.
func operationByID(doc map[string]any, id string) (where, action string, gvk any) {
	for path, item := range lookup(doc, "paths").(map[string]any) {
		for method, op := range item.(map[string]any) {
			if lookup(op, "operationId") == id {
				action, _ := lookup(op, "x-kubernetes-action").(string)
				return strings.ToUpper(method) + " " + path, action, lookup(op, extensionGVK)
			}
		}
	}
	return "", "", nil
}

func TestOperations(t *testing.T) {
	srv := startServer(t)
	docs := map[string]map[string]any{}
	gvk := func(group, version, kind string) any {
		return map[string]any{"group": group, "version": version, "kind": kind}
	}
	tests := []struct {
		doc, id, where, action string
		gvk                    any
	}{
		{"api/v1", "listCoreV1NamespacedService", "GET /api/v1/namespaces/{namespace}/services", "list", gvk("", "v1", "Service")},
		{"api/v1", "listCoreV1ServiceForAllNamespaces", "GET /api/v1/services", "list", gvk("", "v1", "Service")},
		{"api/v1", "createCoreV1NamespacedService", "POST /api/v1/namespaces/{namespace}/services", "post", gvk("", "v1", "Service")},
		{"api/v1", "deleteCoreV1CollectionNamespacedService", "DELETE /api/v1/namespaces/{namespace}/services", "deletecollection", gvk("", "v1", "Service")},
		{"api/v1", "readCoreV1NamespacedService", "GET /api/v1/namespaces/{namespace}/services/{name}", "get", gvk("", "v1", "Service")},
		{"api/v1", "replaceCoreV1NamespacedService", "PUT /api/v1/namespaces/{namespace}/services/{name}", "put", gvk("", "v1", "Service")},
		{"api/v1", "patchCoreV1NamespacedService", "PATCH /api/v1/namespaces/{namespace}/services/{name}", "patch", gvk("", "v1", "Service")},
		{"api/v1", "deleteCoreV1NamespacedService", "DELETE /api/v1/namespaces/{namespace}/services/{name}", "delete", gvk("", "v1", "Service")},
		{"api/v1", "watchCoreV1NamespacedService", "GET /api/v1/watch/namespaces/{namespace}/services/{name}", "watch", gvk("", "v1", "Service")},
		{"api/v1", "watchCoreV1NamespacedServiceList", "GET /api/v1/watch/namespaces/{namespace}/services", "watchlist", gvk("", "v1", "Service")},
		{"api/v1", "watchCoreV1ServiceListForAllNamespaces", "GET /api/v1/watch/services", "watchlist", gvk("", "v1", "Service")},
		{"api/v1", "patchCoreV1NamespacedServiceStatus", "PATCH /api/v1/namespaces/{namespace}/services/{name}/status", "patch", gvk("", "v1", "Service")},
		{"api/v1", "connectCoreV1GetNamespacedServiceProxyWithPath", "GET /api/v1/namespaces/{namespace}/services/{name}/proxy/{path}", "connect", gvk("", "v1", "ServiceProxyOptions")},
		{"api/v1", "listCoreV1Node", "GET /api/v1/nodes", "list", gvk("", "v1", "Node")},
		{"api/v1", "readCoreV1NamespacedPodLog", "GET /api/v1/namespaces/{namespace}/pods/{name}/log", "get", gvk("", "v1", "Pod")},
		{"api/v1", "connectCoreV1PostNamespacedPodExec", "POST /api/v1/namespaces/{namespace}/pods/{name}/exec", "connect", gvk("", "v1", "PodExecOptions")},
		{"api/v1", "createCoreV1NamespacedPodBinding", "POST /api/v1/namespaces/{namespace}/pods/{name}/binding", "post", gvk("", "v1", "Binding")},
		{"api/v1", "getCoreV1APIResources", "GET /api/v1/", "", nil},
		{"apis/apps/v1", "readAppsV1NamespacedDeploymentScale", "GET /apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale", "get", gvk("autoscaling", "v1", "Scale")},
		{"apis/apps/v1", "patchAppsV1NamespacedDeployment", "PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{name}", "patch", gvk("apps", "v1", "Deployment")},
		{"apis/discovery.k8s.io/v1", "listDiscoveryV1EndpointSliceForAllNamespaces", "GET /apis/discovery.k8s.io/v1/endpointslices", "list", gvk("discovery.k8s.io", "v1", "EndpointSlice")},
		{"apis/apps", "getAppsAPIGroup", "GET /apis/apps/", "", nil},
		{"version", "getCodeVersion", "GET /version/", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			if docs[tt.doc] == nil {
				docs[tt.doc] = v3Doc(t, srv, tt.doc)
			}
			where, action, gvk := operationByID(docs[tt.doc], tt.id)
			if where != tt.where || action != tt.action || !cmp.Equal(gvk, tt.gvk) {
				t.Errorf("got %q action %q kind %v, want %q %q %v", where, action, gvk, tt.where, tt.action, tt.gvk)
			}
		})
	}
}

// TestEveryResource checks that every served resource has an operation for
// each verb discovery lists, so a resource added to builtin appears
// without changes here (and fails here if its group has no generated
// definitions).
func TestEveryResource(t *testing.T) {
	o := testOpenAPI()
	actions := map[string]string{"get": "get", "list": "list", "watch": "watch", "create": "post",
		"update": "put", "patch": "patch", "delete": "delete", "deletecollection": "deletecollection"}
	docs := map[string]map[string]any{}
	for _, r := range o.cfg.Resources {
		key := strings.TrimPrefix(apiPrefix(r.GroupVersion), "/")
		if docs[key] == nil {
			data, ok, err := o.V3(key)
			if err != nil || !ok {
				t.Fatalf("%s: %v %v", key, ok, err)
			}
			var doc map[string]any
			if err := json.Unmarshal(data, &doc); err != nil {
				t.Fatal(err)
			}
			docs[key] = doc
		}
		found := map[string]bool{}
		for _, item := range lookup(docs[key], "paths").(map[string]any) {
			for _, op := range item.(map[string]any) {
				if cmp.Equal(lookup(op, extensionGVK), gvkExtension(r.GroupVersionKind())) {
					action, _ := lookup(op, "x-kubernetes-action").(string)
					found[action] = true
				}
			}
		}
		for _, verb := range discovery.Verbs(r) {
			if !found[actions[verb]] {
				t.Errorf("%s: no %s operation", r.GroupResource(), verb)
			}
		}
		schema := lookup(docs[key], "components", "schemas", modelName(r.New()))
		if d, _ := lookup(schema, "description").(string); d == "" {
			t.Errorf("%s: no described schema %s", r.GroupResource(), modelName(r.New()))
		}
	}
}

// TestResourcesWithoutDefinitions checks that a resource without a list
// type (the unstored reviews) gets its other operations, and one whose
// type has no generated definition is left out instead of failing the
// documents.
func TestResourcesWithoutDefinitions(t *testing.T) {
	reviews := schema.GroupVersion{Group: "authentication.k8s.io", Version: "v1"}
	o := New(Config{Scheme: codec.New().Scheme, Logger: slog.New(slog.DiscardHandler), Resources: []*registry.Resource{
		{GroupVersion: reviews, Name: "tokenreviews", Kind: "TokenReview",
			New: func() runtime.Object { return &authenticationv1.TokenReview{} }},
		{GroupVersion: schema.GroupVersion{Group: "example.com", Version: "v1"}, Name: "unknowns", Kind: "Unknown",
			New: func() runtime.Object { return &metav1.PartialObjectMetadataList{} }, NewList: func() runtime.Object { return &unknownList{} }},
	}})
	data, ok, err := o.V3("apis/authentication.k8s.io/v1")
	if err != nil || !ok {
		t.Fatalf("authentication.k8s.io/v1: %v %v", ok, err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	if where, _, _ := operationByID(doc, "createAuthenticationV1TokenReview"); where != "POST /apis/authentication.k8s.io/v1/tokenreviews" {
		t.Errorf("createAuthenticationV1TokenReview at %q", where)
	}
	if _, ok, _ := o.V3("apis/example.com/v1"); ok {
		t.Error("a resource without definitions has a document")
	}
}

// unknownList is a list type with no generated definition.
type unknownList struct{ runtime.Object }
