package integration

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

const manifest = `apiVersion: v1
kind: Service
metadata:
  name: web
  labels:
    app: web
spec:
  selector:
    app: web
  ports:
  - name: http
    port: 80
    targetPort: 8080
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  labels:
    app: web
data:
  greeting: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
`

func writeManifest(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// header returns the first line of kubectl's table output, with runs of
// spaces folded to one.
func header(out string) string {
	first, _, _ := strings.Cut(out, "\n")
	return strings.Join(strings.Fields(first), " ")
}

func TestKubectlNamespaces(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	out := c.kubectl("get", "ns", "-o", "name")
	want := "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n"
	if out != want {
		t.Fatalf("namespaces:\n%s\nwant:\n%s", out, want)
	}
	if h := header(c.kubectl("get", "ns")); h != "NAME STATUS AGE" {
		t.Fatalf("header %q", h)
	}
}

func TestKubectlApply(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	path := writeManifest(t, manifest)
	out := c.kubectl("apply", "-f", path)
	for _, want := range []string{"service/web created", "configmap/web-config created", "deployment.apps/web created"} {
		if !strings.Contains(out, want) {
			t.Fatalf("apply output %q lacks %q", out, want)
		}
	}
	out = c.kubectl("apply", "-f", path)
	if strings.Count(out, "unchanged") != 3 {
		t.Fatalf("second apply: %q", out)
	}
	checkHeaders(t, c)
	out = c.kubectl("apply", "--server-side", "-f", path)
	if !strings.Contains(out, "service/web serverside-applied") {
		t.Fatalf("server-side apply: %q", out)
	}
	yaml := c.kubectl("get", "svc", "web", "-o", "yaml", "--show-managed-fields")
	if !strings.Contains(yaml, "managedFields:") || !strings.Contains(yaml, "manager: kubectl") {
		t.Fatalf("no managedFields in:\n%s", yaml)
	}
	out = c.kubectl("delete", "-f", path)
	if !strings.Contains(out, `service "web" deleted`) {
		t.Fatalf("delete: %q", out)
	}
	if out := c.kubectl("get", "svc,cm,deploy", "-l", "app=web", "-o", "name"); out != "" {
		t.Fatalf("left after delete: %q", out)
	}
}

func checkHeaders(t *testing.T, c *cluster) {
	t.Helper()
	cases := []struct{ args, want string }{
		{"get svc", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE"},
		{"get svc -o wide", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR"},
		{"get deploy", "NAME READY UP-TO-DATE AVAILABLE AGE"},
		{"get cm web-config", "NAME DATA AGE"},
		{"get svc -A", "NAMESPACE NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE"},
		{"get svc --show-labels", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE LABELS"},
		{"get svc -l app=web", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE"},
		{"get svc --field-selector metadata.name=web", "NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE"},
	}
	for _, tc := range cases {
		out := c.kubectl(strings.Fields(tc.args)...)
		if h := header(out); h != tc.want {
			t.Errorf("kubectl %s: header %q, want %q\n%s", tc.args, h, tc.want, out)
		}
		if !strings.Contains(out, "web") {
			t.Errorf("kubectl %s: no row for web:\n%s", tc.args, out)
		}
	}
	if out := c.kubectl("get", "svc", "-A"); !regexp.MustCompile(`(?m)^default\s+web\s+ClusterIP`).MatchString(out) {
		t.Errorf("-A lacks the namespace cell:\n%s", out)
	}
	if out := c.kubectl("get", "svc", "web", "--show-labels"); !strings.Contains(out, "app=web") {
		t.Errorf("--show-labels lacks the labels:\n%s", out)
	}
	if out := c.kubectl("get", "svc", "-o", "wide"); !strings.Contains(out, "app=web") {
		t.Errorf("wide output lacks the selector:\n%s", out)
	}
	if out := c.kubectl("get", "svc", "web"); !regexp.MustCompile(`80/TCP`).MatchString(out) {
		t.Errorf("ports cell:\n%s", out)
	}
	if out := c.kubectl("get", "svc", "-l", "app=nothing"); out != "" {
		t.Errorf("selector matching nothing printed %q", out)
	}
}

func TestKubectlEndpointsColumns(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	path := writeManifest(t, `apiVersion: v1
kind: Endpoints
metadata:
  name: ext
subsets:
- addresses:
  - ip: 10.1.0.1
  - ip: 10.1.0.2
  - ip: 10.1.0.3
  - ip: 10.1.0.4
  ports:
  - port: 8080
`)
	c.kubectl("apply", "-f", path)
	out := c.kubectl("get", "ep", "ext")
	if h := header(out); h != "NAME ENDPOINTS AGE" {
		t.Fatalf("header %q", h)
	}
	if !strings.Contains(out, "10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080 + 1 more...") {
		t.Fatalf("endpoints cell:\n%s", out)
	}
}

func TestKubectlPatchAndEdit(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	c.kubectl("apply", "-f", writeManifest(t, manifest))
	out := c.kubectl("patch", "cm", "web-config", "-p", `{"data":{"extra":"1"}}`)
	if !strings.Contains(out, "configmap/web-config patched") {
		t.Fatalf("patch: %q", out)
	}
	editor := filepath.Join(t.TempDir(), "editor.sh")
	script := "#!/bin/sh\nsed -i 's/greeting: hello/greeting: edited/' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := c.KubectlCmd("edit", "cm", "web-config")
	cmd.Env = append(cmd.Env, "EDITOR="+editor, "KUBE_EDITOR="+editor)
	if b, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(b), "edited") {
		t.Fatalf("edit: %v %s", err, b)
	}
	got := c.kubectl("get", "cm", "web-config", "-o", "jsonpath={.data.greeting},{.data.extra}")
	if got != "edited,1" {
		t.Fatalf("after edit and patch: %q", got)
	}
}

func TestKubectlWatch(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	c.kubectl("apply", "-f", writeManifest(t, manifest))
	cmd := c.KubectlCmd("get", "cm", "-w", "--output-watch-events")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	waitLine(t, lines, "web-config")
	c.kubectl("create", "configmap", "later", "--from-literal=a=b")
	waitLine(t, lines, "later")
}

func waitLine(t *testing.T, lines <-chan string, substr string) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("watch ended before %q", substr)
			}
			if strings.Contains(l, substr) {
				return
			}
		case <-timeout:
			t.Fatalf("no line with %q", substr)
		}
	}
}
