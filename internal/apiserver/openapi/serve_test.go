package openapi

import (
	"encoding/json"
	"net/http"
	"testing"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clientdiscovery "k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi3"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/apiserver/builtin"
	"github.com/svcplane/svcplane/internal/apiserver/codec"
)

const (
	v2ProtobufKubectl = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
	v3ProtobufKubectl = "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// TestKubectlChecks reads the documents through client-go's OpenAPI v3
// client, as kubectl does, and makes kubectl's checks: every PATCH of a
// kind accepts fieldValidation (--validate=strict then leaves validation
// to the server) and offers strategic merge patch with full schemas.
func TestKubectlChecks(t *testing.T) {
	srv := startServer(t)
	dc, err := clientdiscovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	root := openapi3.NewRoot(dc.OpenAPIV3())
	for _, gvk := range []schema.GroupVersionKind{
		{Version: "v1", Kind: "Service"}, {Group: "apps", Version: "v1", Kind: "Deployment"},
		{Group: "discovery.k8s.io", Version: "v1", Kind: "EndpointSlice"},
	} {
		t.Run(gvk.Kind, func(t *testing.T) {
			spec, err := root.GVSpec(gvk.GroupVersion())
			if err != nil {
				t.Fatal(err)
			}
			found := 0
			for path, item := range spec.Paths.Paths {
				op := item.Patch
				var ext map[string]string
				if op == nil || op.Extensions.GetObject(extensionGVK, &ext) != nil || ext["kind"] != gvk.Kind || ext["group"] != gvk.Group {
					continue
				}
				found++
				hasFV := false
				for _, p := range op.Parameters {
					hasFV = hasFV || (p.Name == "fieldValidation" && p.In == "query")
				}
				if _, ok := op.RequestBody.Content["application/strategic-merge-patch+json"]; !hasFV || !ok {
					t.Errorf("%s: PATCH fieldValidation %v, strategic merge patch %v", path, hasFV, ok)
				}
			}
			if found == 0 {
				t.Errorf("no PATCH operation for %s", gvk)
			}
			if _, ok := spec.Components.Schemas[modelName(&metav1.ObjectMeta{})]; !ok {
				t.Error("no ObjectMeta schema")
			}
		})
	}
}

func TestProtobuf(t *testing.T) {
	srv := startServer(t)
	resp, body := get(t, srv.URL+"/openapi/v2", map[string]string{"Accept": v2ProtobufKubectl + ", application/json"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != v2Protobuf[0] {
		t.Fatalf("v2: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var v2 openapiv2.Document
	if err := proto.Unmarshal(body, &v2); err != nil {
		t.Fatal(err)
	}
	if !hasV2Definition(&v2, "io.k8s.api.core.v1.Service") {
		t.Error("v2 protobuf lacks io.k8s.api.core.v1.Service")
	}
	url := rootDoc(t, srv).Paths["api/v1"].ServerRelativeURL
	resp, body = get(t, srv.URL+url, map[string]string{"Accept": v3ProtobufKubectl})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != v3Protobuf[0] {
		t.Fatalf("v3: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var v3 openapiv3.Document
	if err := proto.Unmarshal(body, &v3); err != nil {
		t.Fatal(err)
	}
	if v3.GetComponents().GetSchemas() == nil || len(v3.GetComponents().GetSchemas().GetAdditionalProperties()) == 0 {
		t.Error("v3 protobuf without schemas")
	}
}

func hasV2Definition(doc *openapiv2.Document, name string) bool {
	for _, p := range doc.GetDefinitions().GetAdditionalProperties() {
		if p.GetName() == name {
			return true
		}
	}
	return false
}

func TestCaching(t *testing.T) {
	srv := startServer(t)
	url := rootDoc(t, srv).Paths["apis/apps/v1"].ServerRelativeURL
	resp, _ := get(t, srv.URL+url, nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "public, immutable" || etag == "" ||
		resp.Header.Get("Expires") == "" || resp.Header.Get("Vary") != "Accept" {
		t.Fatalf("current hash: %d headers %v", resp.StatusCode, resp.Header)
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
	resp, _ = get(t, srv.URL+"/openapi/v2", nil)
	etag = resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" || etag == "" {
		t.Fatalf("v2: %d headers %v", resp.StatusCode, resp.Header)
	}
	resp, _ = get(t, srv.URL+"/openapi/v2", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("v2 If-None-Match: got %d, want 304", resp.StatusCode)
	}
}

func TestErrors(t *testing.T) {
	srv := startServer(t)
	tests := []struct {
		name, path, accept string
		wantCode           int
	}{
		{"unknown group version", "/openapi/v3/apis/nope/v1", "", http.StatusNotFound},
		{"other path", "/openapi", "", http.StatusNotFound},
		{"v3 unacceptable", "/openapi/v3/api/v1", "text/html", http.StatusNotAcceptable},
		{"json refused", "/openapi/v3/api/v1", "application/json;q=0", http.StatusNotAcceptable},
		{"v2 unacceptable", "/openapi/v2", "application/yaml", http.StatusNotAcceptable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path, map[string]string{"Accept": tt.accept})
			var status metav1.Status
			if err := json.Unmarshal(body, &status); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if resp.StatusCode != tt.wantCode || status.Kind != "Status" || int(status.Code) != tt.wantCode {
				t.Errorf("got %d %.200s, want %d", resp.StatusCode, body, tt.wantCode)
			}
		})
	}
}

func TestNegotiate(t *testing.T) {
	tests := []struct {
		accept, want string
		ok           bool
	}{
		{"", "application/json", true},
		{"application/json", "application/json", true},
		{v2ProtobufKubectl, v2Protobuf[0], true},
		{v2Protobuf[0], v2Protobuf[0], true},
		{"application/json;q=0.5, " + v2ProtobufKubectl, v2Protobuf[0], true},
		{"*/*", "application/json", true},
		{"text/plain", "", false},
		{"application/json;q=0", "", false},
	}
	for _, tt := range tests {
		got, ok := negotiate([]string{tt.accept}, v2Protobuf)
		if got != tt.want || ok != tt.ok {
			t.Errorf("negotiate(%q) = %q %v, want %q %v", tt.accept, got, ok, tt.want, tt.ok)
		}
	}
}

// TestWarm: after Warm the v2 protobuf and the v3 documents are built, so
// kubectl's first request does not wait for them.
func TestWarm(t *testing.T) {
	o := New(Config{Resources: builtin.Resources(builtin.Config{}), Scheme: codec.New().Scheme, Version: "v1.32.4"})
	if o.v2 != nil || o.v3 != nil {
		t.Fatal("New built documents")
	}
	o.Warm()
	if o.v2 == nil || o.v2.proto == nil || o.v3 == nil || len(o.v3.docs) == 0 {
		t.Fatalf("not built: v2 %v, v3 %v", o.v2 != nil, o.v3 != nil)
	}
}
