package openapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientdiscovery "k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

var (
	coreV1 = schema.GroupVersion{Version: "v1"}
	appsV1 = schema.GroupVersion{Group: "apps", Version: "v1"}
	discV1 = schema.GroupVersion{Group: "discovery.k8s.io", Version: "v1"}
)

func testResources() []*registry.Resource {
	return []*registry.Resource{
		{GroupVersion: coreV1, Name: "services", Singular: "service", Kind: "Service", Namespaced: true,
			ShortNames: []string{"svc"}, Categories: []string{"all"}, Subresources: []string{"status"}},
		{GroupVersion: coreV1, Name: "namespaces", Singular: "namespace", Kind: "Namespace",
			Subresources: []string{"status"}},
		{GroupVersion: appsV1, Name: "deployments", Singular: "deployment", Kind: "Deployment", Namespaced: true,
			ShortNames: []string{"deploy"}, Subresources: []string{"status", "scale"}},
		{GroupVersion: discV1, Name: "endpointslices", Singular: "endpointslice", Kind: "EndpointSlice", Namespaced: true},
	}
}

func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(testResources()))
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

func rootDoc(t *testing.T, srv *httptest.Server) discoveryDoc {
	t.Helper()
	_, body := get(t, srv.URL+"/openapi/v3", nil)
	var root discoveryDoc
	if err := json.Unmarshal(body, &root); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return root
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
	slices.Sort(keys)
	if want := []string{"api/v1", "apis/apps/v1", "apis/discovery.k8s.io/v1"}; !slices.Equal(keys, want) {
		t.Errorf("paths %v, want %v", keys, want)
	}
}

// TestKubectlFieldValidationCheck reads the documents through client-go's
// OpenAPI v3 client, as kubectl does, and applies the two checks kubectl
// makes (cli-runtime's query param verifier and apply's patcher): every
// PATCH operation of a kind accepts fieldValidation, and none offers
// strategic merge patch.
func TestKubectlFieldValidationCheck(t *testing.T) {
	srv := startServer(t)
	dc, err := clientdiscovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	root := openapi3.NewRoot(dc.OpenAPIV3())
	gvs, err := root.GroupVersions()
	if err != nil {
		t.Fatal(err)
	}
	if want := []schema.GroupVersion{appsV1, discV1, coreV1}; !slices.Equal(gvs, want) {
		t.Errorf("GroupVersions = %v, want %v", gvs, want)
	}
	kinds := []schema.GroupVersionKind{
		coreV1.WithKind("Service"), coreV1.WithKind("Namespace"), appsV1.WithKind("Deployment"),
		discV1.WithKind("EndpointSlice"),
	}
	for _, gvk := range kinds {
		t.Run(gvk.Kind, func(t *testing.T) {
			spec, err := root.GVSpec(gvk.GroupVersion())
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for path, item := range spec.Paths.Paths {
				op := item.Patch
				if op == nil {
					continue
				}
				var ext map[string]string
				if err := op.Extensions.GetObject("x-kubernetes-group-version-kind", &ext); err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if ext["group"] != gvk.Group || ext["version"] != gvk.Version || ext["kind"] != gvk.Kind {
					continue
				}
				found++
				hasFV := false
				for _, p := range op.Parameters {
					hasFV = hasFV || (p.Name == "fieldValidation" && p.In == "query")
				}
				if !hasFV {
					t.Errorf("%s: PATCH without fieldValidation", path)
				}
				if op.RequestBody == nil {
					t.Fatalf("%s: PATCH without requestBody", path)
				}
				if _, ok := op.RequestBody.Content["application/strategic-merge-patch+json"]; ok {
					t.Errorf("%s: PATCH offers strategic merge patch", path)
				}
			}
			if found == 0 {
				t.Errorf("no PATCH operation for %s", gvk)
			}
		})
	}
}

// operations lists a document's operations as "METHOD path group/version/Kind".
func operations(t *testing.T, body []byte) []string {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for path, item := range doc.Paths {
		for method, raw := range item {
			if method == "parameters" {
				continue
			}
			var op struct {
				GVK    map[string]string `json:"x-kubernetes-group-version-kind"`
				Params []parameter       `json:"parameters"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatal(err)
			}
			if !slices.ContainsFunc(op.Params, func(p parameter) bool { return p.Name == "fieldValidation" && p.In == "query" }) {
				t.Errorf("%s %s: no fieldValidation query parameter", method, path)
			}
			gv := schema.GroupVersion{Group: op.GVK["group"], Version: op.GVK["version"]}
			ops = append(ops, strings.ToUpper(method)+" "+path+" "+gv.String()+"/"+op.GVK["kind"])
		}
	}
	slices.Sort(ops)
	return ops
}

func TestDocumentOperations(t *testing.T) {
	srv := startServer(t)
	root := rootDoc(t, srv)
	tests := []struct {
		key  string
		want []string
	}{
		{"api/v1", []string{
			"PATCH /api/v1/namespaces/{namespace}/services/{name} v1/Service",
			"PATCH /api/v1/namespaces/{namespace}/services/{name}/status v1/Service",
			"PATCH /api/v1/namespaces/{name} v1/Namespace",
			"PATCH /api/v1/namespaces/{name}/status v1/Namespace",
			"POST /api/v1/namespaces v1/Namespace",
			"POST /api/v1/namespaces/{namespace}/services v1/Service",
			"PUT /api/v1/namespaces/{namespace}/services/{name} v1/Service",
			"PUT /api/v1/namespaces/{namespace}/services/{name}/status v1/Service",
			"PUT /api/v1/namespaces/{name} v1/Namespace",
			"PUT /api/v1/namespaces/{name}/status v1/Namespace",
		}},
		{"apis/apps/v1", []string{
			"PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{name} apps/v1/Deployment",
			"PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale autoscaling/v1/Scale",
			"PATCH /apis/apps/v1/namespaces/{namespace}/deployments/{name}/status apps/v1/Deployment",
			"POST /apis/apps/v1/namespaces/{namespace}/deployments apps/v1/Deployment",
			"PUT /apis/apps/v1/namespaces/{namespace}/deployments/{name} apps/v1/Deployment",
			"PUT /apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale autoscaling/v1/Scale",
			"PUT /apis/apps/v1/namespaces/{namespace}/deployments/{name}/status apps/v1/Deployment",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			resp, body := get(t, srv.URL+root.Paths[tt.key].ServerRelativeURL, map[string]string{"Accept": "application/json"})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("got %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			if diff := cmp.Diff(tt.want, operations(t, body)); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPatchOperationShape(t *testing.T) {
	srv := startServer(t)
	_, body := get(t, srv.URL+"/openapi/v3/api/v1", nil)
	var doc struct {
		Paths map[string]struct {
			Patch json.RawMessage `json:"patch"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var op map[string]any
	if err := json.Unmarshal(doc.Paths["/api/v1/namespaces/{namespace}/services/{name}"].Patch, &op); err != nil {
		t.Fatal(err)
	}
	wantGVK := map[string]any{"group": "", "version": "v1", "kind": "Service"}
	if diff := cmp.Diff(wantGVK, op["x-kubernetes-group-version-kind"]); diff != "" {
		t.Errorf("GVK extension (-want +got):\n%s", diff)
	}
	wantParam := map[string]any{"name": "fieldValidation", "in": "query",
		"schema": map[string]any{"type": "string", "uniqueItems": true}}
	params, _ := op["parameters"].([]any)
	found := false
	for _, p := range params {
		pm := p.(map[string]any)
		delete(pm, "description")
		found = found || cmp.Equal(wantParam, pm)
	}
	if !found {
		t.Errorf("parameters %v lack %v", params, wantParam)
	}
	content := op["requestBody"].(map[string]any)["content"].(map[string]any)
	var types []string
	for k := range content {
		types = append(types, k)
	}
	slices.Sort(types)
	if want := []string{"application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"}; !slices.Equal(types, want) {
		t.Errorf("patch types %v, want %v", types, want)
	}
}

func TestCaching(t *testing.T) {
	srv := startServer(t)
	url := rootDoc(t, srv).Paths["apis/apps/v1"].ServerRelativeURL
	resp, _ := get(t, srv.URL+url, nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, immutable" || etag == "" {
		t.Fatalf("current hash: %d Cache-Control %q ETag %q", resp.StatusCode, resp.Header.Get("Cache-Control"), etag)
	}
	resp, _ = get(t, srv.URL+url, map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: got %d, want 304", resp.StatusCode)
	}
	resp, _ = get(t, srv.URL+"/openapi/v3/apis/apps/v1?hash=OLD", nil)
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != url {
		t.Errorf("old hash: got %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), url)
	}
	resp, _ = get(t, srv.URL+"/openapi/v3/apis/apps/v1", nil)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "" {
		t.Errorf("no hash: got %d Cache-Control %q", resp.StatusCode, resp.Header.Get("Cache-Control"))
	}
}

func TestErrors(t *testing.T) {
	srv := startServer(t)
	protobufV2 := "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	protobufV3 := "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
	tests := []struct {
		name, path, accept string
		wantCode           int
	}{
		{"v2 protobuf", "/openapi/v2", protobufV2, http.StatusNotFound},
		{"v2 json", "/openapi/v2", "application/json", http.StatusNotFound},
		{"unknown group version", "/openapi/v3/apis/nope/v1", "", http.StatusNotFound},
		{"group without version", "/openapi/v3/apis/apps", "", http.StatusNotFound},
		{"other path", "/openapi", "", http.StatusNotFound},
		{"protobuf only", "/openapi/v3/api/v1", protobufV3, http.StatusNotAcceptable},
		{"json refused", "/openapi/v3/api/v1", "application/json;q=0", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path, map[string]string{"Accept": tt.accept})
			var status metav1.Status
			if err := json.Unmarshal(body, &status); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if resp.StatusCode != tt.wantCode || status.Kind != "Status" || int(status.Code) != tt.wantCode {
				t.Errorf("got %d %s, want %d", resp.StatusCode, body, tt.wantCode)
			}
		})
	}
}
