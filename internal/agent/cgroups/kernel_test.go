package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// These tests create real cgroups below the test's own; they need root and
// a mounted cgroupfs (v1 on the CI machine).

func kernelNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	cfg.Name = fmt.Sprintf("svcplane-test-%d-%s", os.Getpid(), strings.ReplaceAll(t.Name(), "/", "-"))
	n, err := New(cfg)
	if err != nil {
		t.Skipf("no usable cgroups here: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Cleanup(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		for _, d := range n.Dirs() {
			if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s left behind (%v)", d, err)
			}
		}
	})
	return n
}

// proc is a process started in a container's cgroups; its Wait runs once,
// in its own goroutine, and wait returns the result any number of times.
type proc struct {
	out  bytes.Buffer
	done chan struct{}
	err  error
}

func (p *proc) wait() error { <-p.done; return p.err }

// waitFor waits d at most; false if the process is still running.
func (p *proc) waitFor(d time.Duration) bool {
	select {
	case <-p.done:
		return true
	case <-time.After(d):
		return false
	}
}

// start runs script in a shell that first moves itself into c's cgroups,
// as the container's init does.
func start(t *testing.T, c Container, script string) *proc {
	t.Helper()
	join := `for f; do echo $$ > "$f" || exit 99; done; exec sh -c '` + script + `'`
	cmd := exec.Command("sh", append([]string{"-c", join, "sh"}, c.Procs()...)...)
	p := &proc{done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { _ = c.Kill(); _ = p.wait() })
	return p
}

func testPod(uid string, containers ...corev1.Container) *corev1.Pod {
	p := podOf(containers)
	p.UID = types.UID(uid)
	return p
}

func ensure(t *testing.T, n *Node, pod *corev1.Pod) (Pod, Container) {
	t.Helper()
	p, err := n.EnsurePod(pod)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Container(pod.Spec.Containers[0].Name, 0, Plan(pod, &pod.Spec.Containers[0]))
	if err != nil {
		t.Fatal(err)
	}
	return p, c
}

func TestKernelOOMKill(t *testing.T) {
	n := kernelNode(t, Config{})
	_, c := ensure(t, n, testPod("oom", ctr("eat", res("", "", "", "32Mi"))))
	sh := start(t, c, "head -c 300000000 /dev/zero | tail")
	err := sh.wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 137 {
		t.Fatalf("exit %v, want status 137 (SIGKILL of tail); output %q", err, sh.out.String())
	}
	if oom, err := c.OOMKilled(); err != nil || !oom {
		t.Errorf("OOMKilled() = %v, %v; want true", oom, err)
	}
}

func TestKernelCPUQuota(t *testing.T) {
	n := kernelNode(t, Config{})
	_, c := ensure(t, n, testPod("cpu", ctr("spin", res("", "", "200m", ""))))
	usage := cpuUsage(t, n, c)
	sh := start(t, c, "while :; do :; done")
	time.Sleep(time.Second)
	used := usage()
	_ = c.Kill()
	_ = sh.wait()
	// 200m is 0.2s a second; a shared machine only ever gives less.
	if used < 20*time.Millisecond || used > 400*time.Millisecond {
		t.Errorf("a busy loop under a 200m limit used %v of CPU in 1s, want about 200ms", used)
	}
	t.Logf("CPU used in 1s under 200m: %v", used)
}

// cpuUsage returns a function giving the CPU time used in c so far.
func cpuUsage(t *testing.T, n *Node, c Container) func() time.Duration {
	if n.v2 {
		file := filepath.Join(n.dir("cpu", c.rel), "cpu.stat")
		return func() time.Duration {
			us, err := n.counter(file, "usage_usec")
			if err != nil {
				t.Fatal(err)
			}
			return time.Duration(us) * time.Microsecond
		}
	}
	dir := n.dir("cpuacct", c.rel)
	if dir == "" {
		t.Skip("no cpuacct hierarchy")
	}
	return func() time.Duration {
		b, err := os.ReadFile(filepath.Join(dir, "cpuacct.usage"))
		ns, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || perr != nil {
			t.Fatal(err, perr)
		}
		return time.Duration(ns)
	}
}

func TestKernelPidsLimit(t *testing.T) {
	n := kernelNode(t, Config{PidsLimit: 20})
	p, c := ensure(t, n, testPod("pids", ctr("forks", res("", "", "", ""))))
	sh := start(t, c, `for i in $(seq 100); do sleep 5 >/dev/null 2>&1 & done; wait`)
	deadline := time.Now().Add(10 * time.Second)
	for refusedForks(t, n, p, c) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	pids, err := c.Pids()
	if err != nil || len(pids) > 20 {
		t.Errorf("%d processes in the container (%v), want at most 20", len(pids), err)
	}
	if refusedForks(t, n, p, c) == 0 {
		t.Error("pids.events counts no refused fork in 10s")
	}
	// The shell gives up at its first failed fork (dash) or after the
	// loop; its sleeps are left for Kill.
	if !sh.waitFor(10 * time.Second) {
		t.Error("the shell did not end in 10s")
	}
	if err := c.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = sh.wait()
	if out := sh.out.String(); !strings.Contains(strings.ToLower(out), "fork") {
		t.Errorf("the shell did not report a failed fork: %q", out)
	}
}

func TestKernelRemoveAndReattach(t *testing.T) {
	n := kernelNode(t, Config{})
	pod := testPod("reattach", ctr("app", res("100m", "", "", "64Mi")))
	p, c := ensure(t, n, pod)
	sh := start(t, c, "sleep 60")
	waitPids(t, c)
	if err := c.Remove(); !errors.Is(err, ErrBusy) {
		t.Fatalf("Remove with a process left: %v, want ErrBusy", err)
	}
	// An agent restart: a new Node finds the pod and its container.
	again, err := New(Config{Name: filepath.Base(n.Dirs()[0])})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := again.Pods()
	if err != nil || len(pods) != 1 || pods[0].UID != "reattach" || pods[0].QOS != corev1.PodQOSBurstable {
		t.Fatalf("Pods() = %+v, %v; want the burstable pod reattach", pods, err)
	}
	cs, err := pods[0].Containers()
	if err != nil || len(cs) != 1 || cs[0].Name != "app" || cs[0].Attempt != 0 {
		t.Fatalf("Containers() = %+v, %v", cs, err)
	}
	if err := cs[0].Kill(); err != nil {
		t.Fatal(err)
	}
	var exit *exec.ExitError
	if err := sh.wait(); !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("sleep ended with %v, want SIGKILL", err)
	}
	if err := again.RemovePod(p.UID); err != nil {
		t.Fatal(err)
	}
	for _, d := range p.Dirs() {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("pod cgroup %s left (%v)", d, err)
		}
	}
}

// refusedForks counts the forks the pids limit refused: v1 counts them in
// the forking cgroup, v2 in the limited one.
func refusedForks(t *testing.T, n *Node, p Pod, c Container) int64 {
	var refused int64
	for _, rel := range []string{p.rel, c.rel} {
		v, err := n.counter(filepath.Join(n.dir("pids", rel), "pids.events"), "max")
		if err != nil {
			t.Fatal(err)
		}
		refused += v
	}
	return refused
}

func waitPids(t *testing.T, c Container) {
	t.Helper()
	for range 500 {
		if pids, _ := c.Pids(); len(pids) > 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatal("the process never joined its cgroup")
}
