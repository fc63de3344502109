package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// portForwardManifest is a Deployment of one nginx and a Service whose
// port 8080 targets the pods' 80, so svc/ forwarding must map the port.
const portForwardManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: pf}
spec:
  replicas: 1
  selector: {matchLabels: {app: pf}}
  template:
    metadata: {labels: {app: pf}}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports: [{containerPort: 80}]
        # Ready once it serves: the program starts after the container.
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: pf}
spec:
  selector: {app: pf}
  ports: [{port: 8080, targetPort: 80}]
`

// TestPortForwardAndExec is issue 9's items 3 and 4 with the real
// kubectl: port-forward to a pod, a Service and a Deployment over the
// websocket tunnel and over SPDY, 50 parallel connections, a port nothing
// listens on, and the exit code of an exec'd process killed by a signal.
func TestPortForwardAndExec(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	s.apply(t, portForwardManifest)
	pod := s.waitDeploymentPod(t, "app=pf")
	for _, ws := range []string{"true", "false"} {
		env := "KUBECTL_PORT_FORWARD_WEBSOCKETS=" + ws
		t.Run("websockets="+ws, func(t *testing.T) {
			for _, target := range []struct{ name, port string }{{"pod/" + pod, "80"}, {"svc/pf", "8080"}, {"deploy/pf", "80"}} {
				t.Run(target.name, func(t *testing.T) {
					pf := s.portForward(t, env, target.name, target.port)
					if !checkParallelGets(t, pf.local, 50) {
						t.Fatalf("kubectl port-forward output:\n%s\nsandbox output (tail):\n%s", pf.output(), tail(s.output(), 60))
					}
					checkDialer(t, ws == "true", pf.output())
					if out := pf.output(); !strings.Contains(out, "Handling connection for "+pf.local) {
						t.Errorf("kubectl port-forward output:\n%s", out)
					}
				})
			}
			t.Run("a port nothing listens on", func(t *testing.T) { s.checkRefusedPort(t, env, pod) })
		})
	}
	s.must(t, "run", "sh", "--image=busybox", "--restart=Never", "--", "sleep", "3600")
	s.waitRunningReady(t, "sh")
	for _, ws := range []string{"true", "false"} {
		t.Run("exec of a signal death, websockets="+ws, func(t *testing.T) {
			cmd := s.kubectlCmd("KUBECTL_REMOTE_COMMAND_WEBSOCKETS="+ws, "exec", "sh", "--", "sh", "-c", "kill -11 $$")
			out, err := cmd.CombinedOutput()
			if code := cmd.ProcessState.ExitCode(); code != 139 || strings.TrimSpace(string(out)) != "command terminated with exit code 139" {
				t.Fatalf("kubectl exec: exit %d (%v), output:\n%s", code, err, out)
			}
		})
	}
	if strings.Contains(s.output(), "WARNING: DATA RACE") {
		t.Errorf("the race detector spoke:\n%s", s.output())
	}
}

// checkDialer reads kubectl's -v=4 log for the way it connected: the
// websocket tunnel without a fallback to SPDY, or SPDY alone.
func checkDialer(t *testing.T, websockets bool, out string) {
	t.Helper()
	tunnel := strings.Contains(out, "negotiated protocol: portforward.k8s.io")
	fallback := strings.Contains(out, "fallback to secondary dialer")
	tried := strings.Contains(out, "Before WebSocket Upgrade Connection")
	if websockets && (!tunnel || fallback) || !websockets && tried {
		t.Errorf("kubectl did not connect as expected (websockets=%v):\n%s", websockets, out)
	}
}

// waitDeploymentPod waits for the one Running, Ready pod of a selector.
func (s *sandbox) waitDeploymentPod(t *testing.T, selector string) string {
	t.Helper()
	var name string
	s.waitFor(t, 60*time.Second, "pod "+selector+" Running and Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-l", selector, "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		f := strings.Fields(out)
		if len(f) == 3 && f[1] == "Running" && f[2] == "True" {
			name = f[0]
			return true, out
		}
		return false, out
	})
	return name
}

// kubectlCmd is a kubectl command of the sandbox with one extra
// environment variable.
func (s *sandbox) kubectlCmd(env string, args ...string) *exec.Cmd {
	cmd := exec.Command("kubectl", append([]string{"--cache-dir", filepath.Join(s.dataDir, "kubectl-cache")}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig(), env)
	return cmd
}

// forwarder is a running `kubectl port-forward`.
type forwarder struct {
	cmd   *exec.Cmd
	local string
	mu    sync.Mutex
	out   bytes.Buffer
	done  chan struct{}
}

func (f *forwarder) output() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.out.String()
}

var forwardingLine = regexp.MustCompile(`Forwarding from 127\.0\.0\.1:(\d+) -> `)

// portForward starts `kubectl port-forward --address 127.0.0.1 TARGET
// :PORT` (a free local port on the host's loopback) and waits for its
// listener; the test's end stops it.
func (s *sandbox) portForward(t *testing.T, env, target, port string) *forwarder {
	t.Helper()
	f := &forwarder{cmd: s.kubectlCmd(env, "port-forward", "-v=4", "--address", "127.0.0.1", target, ":"+port), done: make(chan struct{})}
	pr, pw := io.Pipe()
	f.cmd.Stdout, f.cmd.Stderr = pw, pw
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = f.cmd.Wait(); pw.Close(); close(f.done) }()
	t.Cleanup(func() { _ = f.cmd.Process.Kill(); <-f.done })
	found := make(chan string, 1)
	go f.collect(pr, found)
	select {
	case f.local = <-found:
	case <-f.done:
		t.Fatalf("kubectl port-forward %s exited:\n%s", target, f.output())
	case <-time.After(30 * time.Second):
		t.Fatalf("kubectl port-forward %s: no listener after 30s:\n%s", target, f.output())
	}
	return f
}

// collect keeps kubectl's output and reports the local port once it
// shows.
func (f *forwarder) collect(r io.Reader, found chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f.mu.Lock()
		f.out.WriteString(sc.Text() + "\n")
		f.mu.Unlock()
		if m := forwardingLine.FindStringSubmatch(sc.Text()); m != nil {
			select {
			case found <- m[1]:
			default:
			}
		}
	}
}

// checkParallelGets fetches the nginx page n times at once through the
// local port, each on a connection of its own, and says whether all
// of them succeeded.
func checkParallelGets(t *testing.T, local string, n int) bool {
	t.Helper()
	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- getNginx(client, "http://127.0.0.1:"+local+"/")
		}()
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		if err != nil {
			failed++
			t.Log(err)
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d requests through the forwarded port failed", failed, n)
	}
	return failed == 0
}

func getNginx(c *http.Client, url string) error {
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "Welcome to nginx!") {
		return fmt.Errorf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return nil
}

// checkRefusedPort forwards to port 81, where nothing listens: the first
// connection gets the kubelet's error text, and kubectl (1.23 and later)
// then drops the whole forward and exits 1.
func (s *sandbox) checkRefusedPort(t *testing.T, env, pod string) {
	pf := s.portForward(t, env, "pod/"+pod, "81")
	resp, err := http.Get("http://127.0.0.1:" + pf.local + "/")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET through a refused port: %s", resp.Status)
	}
	select {
	case <-pf.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("kubectl port-forward still runs after the refused connection:\n%s", pf.output())
	}
	out := strings.ReplaceAll(pf.output(), `\"`, `"`) // klog quotes the error
	uid := s.podField(pod, "{.metadata.uid}")
	for _, want := range []string{
		"an error occurred forwarding " + pf.local + " -> 81: error forwarding port 81 to pod " + uid + ", uid : failed to execute portforward in network namespace",
		"failed to connect to localhost:81 inside namespace \"" + uid + "\", IPv4: dial tcp4 127.0.0.1:81: connect: connection refused IPv6 dial tcp6 [::1]:81: connect: connection refused",
		"lost connection to pod",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl output lacks %q:\n%s", want, out)
		}
	}
	if code := pf.cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("kubectl port-forward exited %d, want 1", code)
	}
}
