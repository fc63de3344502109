package e2e

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// upProcess is one `svcplane up` started by a test.
type upProcess struct {
	t       *testing.T
	cmd     *exec.Cmd
	dataDir string
	port    int
	mu      sync.Mutex
	out     bytes.Buffer
	done    chan struct{}
}

func (p *upProcess) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

// output returns what the process printed so far.
func (p *upProcess) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// freePort returns a loopback port nobody listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startUp runs `svcplane up` with its data in dataDir and waits until it
// says it is up. It is killed when the test ends.
func startUp(t *testing.T, dataDir string, port int, args ...string) *upProcess {
	t.Helper()
	p := &upProcess{t: t, dataDir: dataDir, port: port, done: make(chan struct{})}
	all := append([]string{"up", "--data-dir", dataDir, "--secure-port", strconv.Itoa(port)}, args...)
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--no-addons") }) {
		// The proxy and DNS run inside up unless a test asks for the
		// kube-system pods (--no-addons=false, see addons_test.go).
		all = append(all, "--no-addons")
	}
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--ui-port") || strings.HasPrefix(a, "--no-ui") }) {
		// The live view only where a test looks at it (ui_test.go).
		all = append(all, "--no-ui")
	}
	if !slices.Contains(args, "--sandbox") {
		// Outside a sandbox an agent would plumb pods into the machine's
		// own network namespace, which tests never touch.
		all = append(all, "--no-agent")
	}
	p.cmd = exec.Command(binary, all...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { p.kill() })
	// With the kube-system pods, up says it is up once every system
	// component is ready: over a minute under the race detector at load 30.
	wait := 60 * time.Second
	if slices.Contains(args, "--no-addons=false") {
		wait = 180 * time.Second
	}
	deadline := time.After(wait)
	for !strings.Contains(p.output(), "svcplane is up") {
		select {
		case <-p.done:
			t.Fatalf("svcplane up exited:\n%s", p.output())
		case <-deadline:
			t.Fatalf("svcplane up not ready in %s:\n%s", wait, p.output())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return p
}

// kill sends SIGKILL to the process group and waits for it.
func (p *upProcess) kill() {
	if p.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// stop sends SIGINT, as Ctrl-C does, and waits for a clean exit.
func (p *upProcess) stop() error {
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.kill()
		return fmt.Errorf("svcplane up did not stop within 30s")
	}
	if st := p.cmd.ProcessState; st != nil && !st.Success() {
		return fmt.Errorf("svcplane up exited with %v:\n%s", st, p.output())
	}
	return nil
}

func (p *upProcess) kubeconfig() string { return filepath.Join(p.dataDir, "admin.kubeconfig") }

// kubectl runs kubectl against the process's cluster.
func (p *upProcess) kubectl(args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--cache-dir", filepath.Join(p.dataDir, "kubectl-cache")}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+p.kubeconfig())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func needKubectl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("kubectl is not installed")
	}
}
