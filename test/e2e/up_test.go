package e2e

import (
	"strings"
	"testing"
)

func TestUpServesKubectlAndKeepsDataAcrossRestarts(t *testing.T) {
	needKubectl(t)
	dir := t.TempDir()
	port := freePort(t)
	p := startUp(t, dir, port)
	out, err := p.kubectl("get", "ns", "-o", "name")
	if err != nil {
		t.Fatalf("get ns: %v\n%s", err, out)
	}
	for _, ns := range []string{"default", "kube-node-lease", "kube-public", "kube-system", "demo"} {
		if !strings.Contains(out, "namespace/"+ns+"\n") {
			t.Fatalf("namespace %s missing:\n%s", ns, out)
		}
	}
	if out, err := p.kubectl("create", "configmap", "keep", "--from-literal=a=b"); err != nil {
		t.Fatalf("create: %v %s", err, out)
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	p = startUp(t, dir, port)
	if out, err := p.kubectl("get", "cm", "keep", "-o", "jsonpath={.data.a}"); err != nil || out != "b" {
		t.Fatalf("after restart: %v %q", err, out)
	}
}
