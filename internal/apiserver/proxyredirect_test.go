package apiserver

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestProxyRedirectToSlash: GET and HEAD of .../proxy without a path get
// kube-apiserver's 301 to .../proxy/ (upstream's Proxy conformance spec);
// other methods and paths are proxied.
func TestProxyRedirectToSlash(t *testing.T) {
	for _, tt := range []struct {
		method, url, proxyPath string
		want                   string
	}{
		{"GET", "/api/v1/namespaces/ns/pods/p/proxy?method=GET", "/", "/api/v1/namespaces/ns/pods/p/proxy/?method=GET"},
		{"HEAD", "/api/v1/namespaces/ns/services/s/proxy", "/", "/api/v1/namespaces/ns/services/s/proxy/"},
		{"POST", "/api/v1/namespaces/ns/pods/p/proxy", "/", ""},
		{"GET", "/api/v1/namespaces/ns/pods/p/proxy/", "/", ""},
		{"GET", "/api/v1/namespaces/ns/pods/p/proxy/x", "/x", ""},
	} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(tt.method, tt.url, nil)
		got := redirectToSlash(w, r, requestInfo{ProxyPath: tt.proxyPath})
		if got != (tt.want != "") {
			t.Errorf("%s %s: redirected %v", tt.method, tt.url, got)
			continue
		}
		if got && (w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != tt.want) {
			t.Errorf("%s %s: %d to %q, want 301 to %q", tt.method, tt.url, w.Code, w.Header().Get("Location"), tt.want)
		}
	}
}
