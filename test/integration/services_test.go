package integration

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

const fixedService = `apiVersion: v1
kind: Service
metadata:
  name: %s
spec:
  clusterIP: %s
  selector:
    app: x
  ports:
  - port: 80
`

func TestKubectlServiceAllocation(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	c.kubectl("apply", "-f", writeManifest(t, fmt.Sprintf(fixedService, "fixed", "10.96.0.50")))
	if ip := c.kubectl("get", "svc", "fixed", "-o", "jsonpath={.spec.clusterIP}"); ip != "10.96.0.50" {
		t.Fatalf("fixed clusterIP: %q", ip)
	}
	_, errOut, err := c.KubectlResult("", "apply", "-f", writeManifest(t, fmt.Sprintf(fixedService, "second", "10.96.0.50")))
	want := `The Service "second" is invalid: spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated`
	if err == nil || !strings.Contains(errOut, want) {
		t.Fatalf("duplicate address: %v\n%s", err, errOut)
	}
	_, errOut, err = c.KubectlResult("", "apply", "-f", writeManifest(t, fmt.Sprintf(fixedService, "outside", "10.200.0.1")))
	want = `The Service "outside" is invalid: spec.clusterIPs: Invalid value: ["10.200.0.1"]: failed to allocate IP 10.200.0.1: the provided IP (10.200.0.1) is not in the valid range. The range of valid IPs is 10.96.0.0/12`
	if err == nil || !strings.Contains(errOut, want) {
		t.Fatalf("address out of range: %v\n%s", err, errOut)
	}
	noIP := writeManifest(t, "apiVersion: v1\nkind: Service\nmetadata:\n  name: auto\nspec:\n  selector:\n    app: x\n  ports:\n  - port: 80\n")
	c.kubectl("apply", "-f", noIP)
	if out := c.kubectl("apply", "-f", noIP); !strings.Contains(out, "service/auto unchanged") {
		t.Fatalf("re-apply without clusterIP: %q", out)
	}
	checkClusterIPImmutable(t, c)
}

func checkClusterIPImmutable(t *testing.T, c *cluster) {
	t.Helper()
	_, errOut, err := c.KubectlResult("", "patch", "svc", "fixed", "-p", `{"spec":{"clusterIP":"10.96.0.51","clusterIPs":["10.96.0.51"]}}`)
	want := `The Service "fixed" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.51"]: may not change once set`
	if err == nil || !strings.Contains(errOut, want) {
		t.Fatalf("patch of clusterIP: %v\n%s", err, errOut)
	}
	// kubectl edit re-opens the file with the server's reasons in it; the
	// editor keeps a copy of every version it is given.
	dir := t.TempDir()
	editor := filepath.Join(dir, "editor.sh")
	script := "#!/bin/sh\ncat \"$1\" >> " + filepath.Join(dir, "seen") + "\nsed -i 's/10.96.0.50/10.96.0.51/g' \"$1\"\n"
	if err := os.WriteFile(editor, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := c.KubectlCmd("edit", "svc", "fixed")
	cmd.Env = append(cmd.Env, "EDITOR="+editor, "KUBE_EDITOR="+editor)
	out, _ := cmd.CombinedOutput()
	seen, _ := os.ReadFile(filepath.Join(dir, "seen"))
	if !strings.Contains(string(out), `services "fixed" is invalid`) ||
		!strings.Contains(string(seen), `spec.clusterIPs[0]: Invalid value: ["10.96.0.51"]: may not change once set`) {
		t.Fatalf("edit of clusterIP:\n%s\n%s", out, seen)
	}
}

func TestKubectlNodePorts(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	c.kubectl("create", "service", "nodeport", "np", "--tcp=80:8080")
	out := c.kubectl("get", "svc", "np")
	m := regexp.MustCompile(`80:(3\d{4})/TCP`).FindStringSubmatch(out)
	if m == nil || m[1] < "30000" || m[1] > "32767" {
		t.Fatalf("node port:\n%s", out)
	}
	_, errOut, err := c.KubectlResult("", "create", "service", "nodeport", "np2", "--tcp=81:8080", "--node-port="+m[1])
	want := fmt.Sprintf(`Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: %s: provided port is already allocated`, m[1])
	if err == nil || !strings.Contains(errOut, want) {
		t.Fatalf("taken node port: %v\n%s", err, errOut)
	}
	c.kubectl("patch", "svc", "np", "-p", `{"spec":{"type":"ExternalName","externalName":"example.org"}}`)
	if out := c.kubectl("get", "svc", "np", "-o", "jsonpath={.spec.clusterIP}|{.spec.ports[0].nodePort}"); out != "|" {
		t.Fatalf("after ExternalName: %q", out)
	}
	c.kubectl("create", "service", "nodeport", "np3", "--tcp=82:8080", "--node-port="+m[1])
	c.kubectl("patch", "svc", "np", "-p", `{"spec":{"type":"ClusterIP","externalName":null}}`)
	if ip := c.kubectl("get", "svc", "np", "-o", "jsonpath={.spec.clusterIP}"); !strings.HasPrefix(ip, "10.") {
		t.Fatalf("back to ClusterIP: %q", ip)
	}
}

func TestKubernetesService(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	out := c.kubectl("get", "svc", "-A")
	if !regexp.MustCompile(`(?m)^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443/TCP`).MatchString(out) {
		t.Fatalf("get svc -A:\n%s", out)
	}
	port := strings.TrimPrefix(c.Server.URL, "https://127.0.0.1:")
	waitFor(t, "the kubernetes endpoints", func() bool {
		return strings.Contains(c.kubectl("describe", "svc", "kubernetes"), "Endpoints:                127.0.0.1:"+port)
	})
}

// TestAllocationsSurviveRestart restarts the API server on the same data
// and checks a new Service does not get an address or port already held.
func TestAllocationsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	var held []string
	for round := range 2 {
		ctx, cancel := context.WithCancel(context.Background())
		srv, err := app.StartAPIServer(ctx, app.APIServerConfig{DataDir: dir, Port: 0,
			Cluster: app.ClusterConfig{ServiceCIDRs: []string{"10.96.0.0/27"}, NodePortRange: "30000-30039"},
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		client := adminClient(t, srv.AdminKubeconfig)
		for i := range 10 {
			svc := nodePortService(fmt.Sprintf("r%d-%d", round, i))
			out, err := client.CoreV1().Services("default").Create(ctx, svc, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, out.Spec.ClusterIP, fmt.Sprint(out.Spec.Ports[0].NodePort))
		}
		cancel()
		<-srv.Done
	}
	checkDistinct(t, held)
}

func adminClient(t *testing.T, path string) kubernetes.Interface {
	t.Helper()
	rc, err := kubeconfig.RESTConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS, rc.Burst = 1000, 1000
	return kubernetes.NewForConfigOrDie(rc)
}

func nodePortService(name string) *corev1.Service {
	return &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: map[string]string{"app": name},
			Ports: []corev1.ServicePort{{Port: 80}}}}
}

func checkDistinct(t *testing.T, values []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, v := range values {
		if seen[v] {
			t.Fatalf("%s was given twice", v)
		}
		seen[v] = true
	}
}

// TestConcurrentAllocation creates 500 Services from 20 clients at once:
// every one gets its own address and node port.
func TestConcurrentAllocation(t *testing.T) {
	c := startCluster(t)
	var mu sync.Mutex
	var held []string
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for w := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := adminClient(t, c.Kubeconfig)
			for i := range 25 {
				out, err := client.CoreV1().Services("default").Create(context.Background(), nodePortService(fmt.Sprintf("w%d-%d", w, i)), metav1.CreateOptions{})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				held = append(held, out.Spec.ClusterIP, fmt.Sprint(out.Spec.Ports[0].NodePort))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(held) != 1000 {
		t.Fatalf("%d values", len(held))
	}
	checkDistinct(t, held)
}
