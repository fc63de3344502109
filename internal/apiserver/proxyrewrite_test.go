package apiserver

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestProxyRewritesLinks: links of a proxied HTML page and a Location
// header into the target go through the proxy path, as kube-apiserver's
// proxy (upstream's "proxy through a service and a pod" conformance spec);
// other content passes unchanged and CORS headers are dropped.
func TestProxyRewritesLinks(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, `<a href="/rewriteme">test</a><img src="rel.png">`)
		case "/moved":
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(http.StatusFound)
		default:
			w.Header().Set("Content-Type", "text/plain")
			io.WriteString(w, `<a href="/rewriteme">test</a>`)
		}
	}))
	defer backend.Close()
	const prefix = "/api/v1/namespaces/ns/pods/web:1080/proxy"
	for _, tt := range []struct{ path, wantBody, wantLocation string }{
		{"/html", `<a href="` + prefix + `/rewriteme">test</a><img src="rel.png">`, ""},
		{"/plain", `<a href="/rewriteme">test</a>`, ""},
		{"/moved", "", prefix + "/elsewhere"},
	} {
		r := httptest.NewRequest("GET", prefix+tt.path, nil)
		tr := rewritingTransport(r, requestInfo{ProxyPath: tt.path}, http.DefaultTransport)
		out, _ := http.NewRequest("GET", backend.URL+tt.path, nil)
		resp, err := tr.RoundTrip(out)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tt.wantBody != "" && strings.TrimSpace(string(body)) != tt.wantBody {
			t.Errorf("%s: body %q, want %q", tt.path, body, tt.wantBody)
		}
		if got := resp.Header.Get("Location"); got != tt.wantLocation {
			t.Errorf("%s: Location %q, want %q", tt.path, got, tt.wantLocation)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: CORS header kept", tt.path)
		}
	}
}

func TestProxyPrefix(t *testing.T) {
	for _, tt := range []struct{ req, proxyPath, want string }{
		{"/api/v1/namespaces/ns/pods/p/proxy/", "/", "/api/v1/namespaces/ns/pods/p/proxy"},
		{"/api/v1/namespaces/ns/pods/p/proxy/a/b", "/a/b", "/api/v1/namespaces/ns/pods/p/proxy"},
		{"/api/v1/namespaces/ns/services/s:80/proxy/dir/", "/dir/", "/api/v1/namespaces/ns/services/s:80/proxy"},
		{"/api/v1/nodes/n/proxy/x/", "/x", "/api/v1/nodes/n/proxy"},
	} {
		if got := proxyPrefix(tt.req, tt.proxyPath); got != tt.want {
			t.Errorf("proxyPrefix(%q, %q) = %q, want %q", tt.req, tt.proxyPath, got, tt.want)
		}
	}
}
