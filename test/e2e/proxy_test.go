package e2e

import (
	"bufio"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

const proxyManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: nginx, image: nginx, ports: [{name: http, containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
`

var proxyServing = regexp.MustCompile(`Starting to serve on 127\.0\.0\.1:(\d+)`)

// TestKubectlProxy is the Kubernetes docs' walk: `kubectl proxy`, then
// the Service's page through services/web:80/proxy/, and the same through
// the pod's and the node agent's proxy subresources. The API server dials
// the pod from inside the sandbox's node namespace; the test talks only
// to kubectl proxy on loopback.
func TestKubectlProxy(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	s.apply(t, proxyManifest)
	pod := s.waitDeploymentPod(t, "app=web")
	s.waitFor(t, 30*time.Second, "a ready endpoint of web", func() (bool, string) {
		out, _ := s.kubectl("get", "endpoints", "web", "-o", "jsonpath={.subsets[*].addresses[*].ip}")
		return out != "", out
	})
	base := s.kubectlProxy(t)
	cases := []struct{ name, path, want string }{
		{"service by port", "/api/v1/namespaces/default/services/web:80/proxy/", "Welcome to nginx!"},
		{"service by port name", "/api/v1/namespaces/default/services/web:http/proxy/", "Welcome to nginx!"},
		{"pod by port name", "/api/v1/namespaces/default/pods/" + pod + ":http/proxy/", "Welcome to nginx!"},
		{"pod default port", "/api/v1/namespaces/default/pods/" + pod + "/proxy/", "Welcome to nginx!"},
		{"node agent", "/api/v1/nodes/" + s.name + "/proxy/healthz", "ok"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := http.Get(base + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), tc.want) {
				t.Errorf("GET %s: %d\n%s", tc.path, resp.StatusCode, tail(string(body), 10))
			}
		})
	}
}

// kubectlProxy starts `kubectl proxy` on a free loopback port until the
// test ends and returns its URL.
func (s *sandbox) kubectlProxy(t *testing.T) string {
	t.Helper()
	cmd := s.kubectlCmd("", "proxy", "--port=0", "--address=127.0.0.1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := proxyServing.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case port := <-found:
		return "http://127.0.0.1:" + port
	case <-time.After(30 * time.Second):
		t.Fatal("kubectl proxy did not start serving in 30s")
	}
	return ""
}
