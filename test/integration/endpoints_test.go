package integration

import (
	"net/http"
	"strings"
	"testing"
)

func TestHealthVersionAndMetrics(t *testing.T) {
	c := startCluster(t)
	for _, path := range []string{"/healthz", "/livez", "/readyz"} {
		if code, body := c.rawRequest("GET", path, "", nil, true); code != http.StatusOK || body != "ok" {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
	code, body := c.rawRequest("GET", "/version", "", nil, true)
	if code != http.StatusOK || !strings.Contains(body, `"minor":"32"`) {
		t.Errorf("/version: %d %s", code, body)
	}
	if code, _ := c.rawRequest("GET", "/metrics", "", nil, true); code != http.StatusUnauthorized {
		t.Errorf("anonymous /metrics: %d", code)
	}
	c.rawRequest("GET", "/api/v1/namespaces/default/configmaps", "", nil, false)
	code, body = c.rawRequest("GET", "/metrics", "", nil, false)
	want := `apiserver_request_total{code="200",group="",resource="configmaps",subresource="",verb="list"}`
	if code != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, "apiserver_request_duration_seconds_bucket") {
		t.Errorf("/metrics: %d, lacks %s", code, want)
	}
}

func TestWarningForIgnoredExternalName(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	_, errOut, err := c.KubectlResult("", "apply", "-f", writeManifest(t, `apiVersion: v1
kind: Service
metadata:
  name: w
spec:
  externalName: example.org
  ports:
  - port: 80
`))
	if err != nil || !strings.Contains(errOut, `Warning: spec.externalName is ignored when spec.type is not "ExternalName"`) {
		t.Fatalf("warning: %v\n%s", err, errOut)
	}
}
