package discovery

import (
	"encoding/json"
	"fmt"
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
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// kubectlAccept is the Accept header kubectl 1.32 sends for /api and /apis.
const kubectlAccept = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList," +
	"application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json"

func testResources() []*registry.Resource {
	v1 := schema.GroupVersion{Version: "v1"}
	apps := schema.GroupVersion{Group: "apps", Version: "v1"}
	disc := schema.GroupVersion{Group: "discovery.k8s.io", Version: "v1"}
	return []*registry.Resource{
		{GroupVersion: v1, Name: "services", Singular: "service", Kind: "Service", ListKind: "ServiceList",
			Namespaced: true, ShortNames: []string{"svc"}, Categories: []string{"all"}, Subresources: []string{"status"}},
		{GroupVersion: v1, Name: "namespaces", Singular: "namespace", Kind: "Namespace", ListKind: "NamespaceList",
			ShortNames: []string{"ns"}, Subresources: []string{"status"}},
		{GroupVersion: apps, Name: "deployments", Singular: "deployment", Kind: "Deployment", ListKind: "DeploymentList",
			Namespaced: true, ShortNames: []string{"deploy"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"}},
		{GroupVersion: disc, Name: "endpointslices", Singular: "endpointslice", Kind: "EndpointSlice",
			ListKind: "EndpointSliceList", Namespaced: true},
	}
}

func startServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(New(testResources()))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, srv *httptest.Server, legacy bool) *clientdiscovery.DiscoveryClient {
	t.Helper()
	dc, err := clientdiscovery.NewDiscoveryClientForConfig(&rest.Config{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dc.UseLegacyDiscovery = legacy
	return dc
}

// summary renders discovery as client-go sees it, one line per resource,
// independent of the wire format. Resource lists are sorted by group
// version: client-go returns them in map order for aggregated discovery.
func summary(groups []*metav1.APIGroup, lists []*metav1.APIResourceList) string {
	lists = slices.Clone(lists)
	slices.SortFunc(lists, func(a, b *metav1.APIResourceList) int { return strings.Compare(a.GroupVersion, b.GroupVersion) })
	var b strings.Builder
	for _, g := range groups {
		fmt.Fprintf(&b, "group %q preferred %s\n", g.Name, g.PreferredVersion.GroupVersion)
	}
	for _, l := range lists {
		for _, r := range l.APIResources {
			kind := r.Kind
			if r.Group != "" {
				kind = r.Group + "/" + r.Version + "." + r.Kind
			}
			fmt.Fprintf(&b, "%s %s singular=%q namespaced=%v kind=%s verbs=%v short=%v cat=%v\n",
				l.GroupVersion, r.Name, r.SingularName, r.Namespaced, kind, r.Verbs, r.ShortNames, r.Categories)
		}
	}
	return b.String()
}

const wantSummary = `group "" preferred v1
group "apps" preferred apps/v1
group "discovery.k8s.io" preferred discovery.k8s.io/v1
apps/v1 deployments singular="deployment" namespaced=true kind=Deployment verbs=[create delete deletecollection get list patch update watch] short=[deploy] cat=[all]
apps/v1 deployments/scale singular="" namespaced=true kind=autoscaling/v1.Scale verbs=[get patch update] short=[] cat=[]
apps/v1 deployments/status singular="" namespaced=true kind=Deployment verbs=[get patch update] short=[] cat=[]
discovery.k8s.io/v1 endpointslices singular="endpointslice" namespaced=true kind=EndpointSlice verbs=[create delete deletecollection get list patch update watch] short=[] cat=[]
v1 namespaces singular="namespace" namespaced=false kind=Namespace verbs=[create delete deletecollection get list patch update watch] short=[ns] cat=[]
v1 namespaces/status singular="" namespaced=false kind=Namespace verbs=[get patch update] short=[] cat=[]
v1 services singular="service" namespaced=true kind=Service verbs=[create delete deletecollection get list patch update watch] short=[svc] cat=[all]
v1 services/status singular="" namespaced=true kind=Service verbs=[get patch update] short=[] cat=[]
`

func TestServerGroupsAndResources(t *testing.T) {
	srv := startServer(t)
	for _, legacy := range []bool{true, false} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			groups, lists, err := newClient(t, srv, legacy).ServerGroupsAndResources()
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lists {
				for i := range l.APIResources {
					r := &l.APIResources[i]
					// Aggregated discovery names every resource's group and
					// version and gives subresources their parent's singular
					// name; legacy does neither. Compare the rest.
					if gv := (schema.GroupVersion{Group: r.Group, Version: r.Version}); gv.String() == l.GroupVersion {
						r.Group, r.Version = "", ""
					}
					if strings.Contains(r.Name, "/") {
						r.SingularName = ""
					}
				}
			}
			if diff := cmp.Diff(wantSummary, summary(groups, lists)); diff != "" {
				t.Errorf("discovery (-want +got):\n%s", diff)
			}
		})
	}
}

func TestShortNamesAndCategories(t *testing.T) {
	srv := startServer(t)
	for _, legacy := range []bool{true, false} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			dc := newClient(t, srv, legacy)
			cached := memory.NewMemCacheClient(dc)
			mapper := restmapper.NewShortcutExpander(restmapper.NewDeferredDiscoveryRESTMapper(cached), cached, nil)
			tests := []struct{ in, want string }{
				{"svc", "/v1, Resource=services"},
				{"ns", "/v1, Resource=namespaces"},
				{"deploy", "apps/v1, Resource=deployments"},
				{"service", "/v1, Resource=services"},
				{"endpointslices", "discovery.k8s.io/v1, Resource=endpointslices"},
			}
			for _, tt := range tests {
				gvr, err := mapper.ResourceFor(schema.GroupVersionResource{Resource: tt.in})
				if err != nil {
					t.Errorf("ResourceFor(%s): %v", tt.in, err)
					continue
				}
				if gvr.String() != tt.want {
					t.Errorf("ResourceFor(%s) = %s, want %s", tt.in, gvr, tt.want)
				}
			}
			all, ok := restmapper.NewDiscoveryCategoryExpander(cached).Expand("all")
			slices.SortFunc(all, func(a, b schema.GroupResource) int { return strings.Compare(a.String(), b.String()) })
			want := []schema.GroupResource{{Group: "apps", Resource: "deployments"}, {Resource: "services"}}
			if !ok || !slices.Equal(all, want) {
				t.Errorf("category all = %v, want %v", all, want)
			}
		})
	}
}

func get(t *testing.T, url, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
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

func TestContentNegotiation(t *testing.T) {
	srv := startServer(t)
	v2 := AggregatedContentType
	tests := []struct {
		path, accept, wantType, wantKind string
	}{
		{"/api", "", "application/json", "APIVersions"},
		{"/api", "application/json", "application/json", "APIVersions"},
		{"/api", kubectlAccept, v2, "APIGroupDiscoveryList"},
		{"/apis", kubectlAccept, v2, "APIGroupDiscoveryList"},
		{"/apis", "application/json", "application/json", "APIGroupList"},
		{"/apis", v2 + ";profile=nopeer," + v2 + ",application/json", v2, "APIGroupDiscoveryList"},
		{"/apis", v2 + ";profile=other,application/json", "application/json", "APIGroupList"},
		{"/apis", v2 + ";q=0,application/json", "application/json", "APIGroupList"},
		{"/apis", "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json",
			"application/json", "APIGroupList"},
		{"/api/v1", kubectlAccept, "application/json", "APIResourceList"},
		{"/apis/apps", kubectlAccept, "application/json", "APIGroup"},
		{"/apis/apps/v1", kubectlAccept, "application/json", "APIResourceList"},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.accept, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path, tt.accept)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != tt.wantType {
				t.Fatalf("got %d %q, want 200 %q", resp.StatusCode, resp.Header.Get("Content-Type"), tt.wantType)
			}
			var tm metav1.TypeMeta
			if err := json.Unmarshal(body, &tm); err != nil {
				t.Fatal(err)
			}
			if tm.Kind != tt.wantKind {
				t.Errorf("kind %q, want %q", tm.Kind, tt.wantKind)
			}
		})
	}
}

func TestLegacyDocuments(t *testing.T) {
	srv := startServer(t)
	_, body := get(t, srv.URL+"/api", "application/json")
	var versions metav1.APIVersions
	if err := json.Unmarshal(body, &versions); err != nil {
		t.Fatal(err)
	}
	wantAddr := strings.TrimPrefix(srv.URL, "http://")
	if versions.APIVersion != "v1" || !slices.Equal(versions.Versions, []string{"v1"}) ||
		len(versions.ServerAddressByClientCIDRs) != 1 ||
		versions.ServerAddressByClientCIDRs[0] != (metav1.ServerAddressByClientCIDR{ClientCIDR: "0.0.0.0/0", ServerAddress: wantAddr}) {
		t.Errorf("/api = %s", body)
	}

	_, body = get(t, srv.URL+"/api/v1", "")
	var list metav1.APIResourceList
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if list.APIVersion != "v1" || list.GroupVersion != "v1" {
		t.Errorf("/api/v1 = %s", body)
	}
	hashes := map[string]string{}
	for _, r := range list.APIResources {
		hashes[r.Name] = r.StorageVersionHash
	}
	// The value kube-apiserver reports for services.
	if hashes["services"] != "0/CO1lhkEBI=" || hashes["services/status"] != "" {
		t.Errorf("storage version hashes = %v", hashes)
	}

	_, body = get(t, srv.URL+"/apis/apps", "")
	var g metav1.APIGroup
	if err := json.Unmarshal(body, &g); err != nil {
		t.Fatal(err)
	}
	want := metav1.GroupVersionForDiscovery{GroupVersion: "apps/v1", Version: "v1"}
	if g.APIVersion != "v1" || g.Name != "apps" || g.PreferredVersion != want || len(g.Versions) != 1 {
		t.Errorf("/apis/apps = %s", body)
	}
}

func TestNotFound(t *testing.T) {
	srv := startServer(t)
	for _, path := range []string{"/api/v2", "/apis/nope", "/apis/nope/v1", "/apis/apps/v2", "/apis/", "/other"} {
		t.Run(path, func(t *testing.T) {
			resp, body := get(t, srv.URL+path, "")
			var status metav1.Status
			if err := json.Unmarshal(body, &status); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if resp.StatusCode != http.StatusNotFound || status.Kind != "Status" ||
				status.Reason != metav1.StatusReasonNotFound || status.Code != http.StatusNotFound {
				t.Errorf("got %d %s", resp.StatusCode, body)
			}
		})
	}
}
