package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
)

// sandboxSeq makes sandbox names unique within a test run.
var sandboxSeq atomic.Int32

// sandbox is a one-node cluster run by `svcplane up --sandbox` in a
// network namespace of its own.
type sandbox struct {
	*upProcess
	name string
	args []string
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the node runs in network namespaces the test creates")
	}
	if _, err := exec.LookPath("nsenter"); err != nil {
		t.Skip("needs nsenter (util-linux)")
	}
}

// startSandbox runs a sandboxed cluster for the test. When the test ends,
// `svcplane down` removes its namespaces and processes, and the test
// fails if any is left.
func startSandbox(t *testing.T, extra ...string) *sandbox {
	t.Helper()
	needRoot(t)
	needKubectl(t)
	name := fmt.Sprintf("e2e%d-%d", os.Getpid()%100000, sandboxSeq.Add(1))
	dir := t.TempDir()
	t.Cleanup(func() { sweepSandbox(t, name, dir) })
	args := append([]string{"--sandbox", name, "--example=false"}, extra...)
	p := startUp(t, dir, freePort(t), args...)
	s := &sandbox{upProcess: p, name: name, args: args}
	s.waitFor(t, 30*time.Second, "node Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "node", name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True", out
	})
	return s
}

// restart stops the cluster cleanly and starts it again on its data.
func (s *sandbox) restart(t *testing.T) {
	t.Helper()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	s.upProcess = startUp(t, s.dataDir, s.port, s.args...)
}

// sweepSandbox runs `svcplane down` and checks nothing is left.
func sweepSandbox(t *testing.T, name, dataDir string) {
	names := netns.Names{Cluster: name}
	out, err := exec.Command(binary, "down", "--sandbox", name, "--data-dir", dataDir).CombinedOutput()
	if err != nil {
		t.Errorf("svcplane down: %v\n%s", err, out)
	}
	left, _ := netns.NewDir("").List(names.Prefix())
	if len(left) > 0 {
		t.Errorf("namespaces left after down: %v", left)
	}
}

// kubectlIn runs kubectl with stdin.
func (s *sandbox) kubectlIn(stdin string, args ...string) (string, error) {
	cmd := exec.Command("kubectl", append([]string{"--cache-dir", filepath.Join(s.dataDir, "kubectl-cache")}, args...)...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+s.kubeconfig())
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// must runs kubectl and fails the test on error.
func (s *sandbox) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := s.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// apply applies a manifest.
func (s *sandbox) apply(t *testing.T, manifest string) {
	t.Helper()
	if out, err := s.kubectlIn(manifest, "apply", "-f", "-"); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
}

// waitFor polls cond until it holds, failing the test with what it last
// saw after timeout.
func (s *sandbox) waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, seen := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; last seen:\n%s\nsvcplane output:\n%s", what, timeout, seen, tail(s.output(), 40))
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// podField reads a jsonpath of a pod.
func (s *sandbox) podField(name, path string) string {
	out, _ := s.kubectl("get", "pod", name, "-o", "jsonpath="+path)
	return out
}

// waitRunningReady waits until the pod runs and is Ready.
func (s *sandbox) waitRunningReady(t *testing.T, pod string) {
	t.Helper()
	s.waitFor(t, 60*time.Second, "pod "+pod+" Running and Ready", func() (bool, string) {
		out := s.podField(pod, `{.status.phase} {.status.conditions[?(@.type=="Ready")].status}`)
		return out == "Running True", out
	})
}

// podNetnsProcesses returns the processes inside a pod's namespace.
func (s *sandbox) podNetnsProcesses(t *testing.T, pod string) []int {
	t.Helper()
	uid := s.podField(pod, "{.metadata.uid}")
	ns := s.podField(pod, "{.metadata.namespace}")
	path := netns.NewDir("").Path(netns.Names{Cluster: s.name}.Pod(ns, pod, uid))
	ino, err := netns.Inode(path)
	if err != nil {
		t.Fatalf("pod %s namespace %s: %v", pod, path, err)
	}
	return netns.ProcessesIn(ino)
}
