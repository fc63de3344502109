package e2e

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/proctable"
)

// runSleeper starts a busybox pod that sleeps on the sandbox's node;
// script, if given, runs first.
func (s *sandbox) runSleeper(t *testing.T, name, script string) {
	t.Helper()
	s.must(t, "run", name, "--image=busybox", "--restart=Never", "--overrides", fmt.Sprintf(`{"spec":{"nodeName":%q}}`, s.name),
		"--", "sh", "-c", script+"exec sleep 3600")
	s.waitRunningReady(t, name)
}

func down(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(binary, append([]string{"down"}, args...)...).CombinedOutput()
	return string(out), err
}

// TestDownDataDirLeavesTheOtherCluster is issue 9's item 5: two clusters
// with their own data directories run side by side; `down --data-dir` of
// one stops and removes it, and the other keeps running and serving.
func TestDownDataDirLeavesTheOtherCluster(t *testing.T) {
	t.Parallel()
	a, b := startSandbox(t), startSandbox(t)
	a.runSleeper(t, "sleeper", "")
	b.runSleeper(t, "sleeper", "")
	before := b.podNetnsProcesses(t, "sleeper")
	if out, err := down(t, "--sandbox", b.name); err == nil || !strings.Contains(out, "is run by svcplane up") {
		t.Fatalf("down --sandbox of a running cluster without its data directory: %v\n%s", err, out)
	}
	out, err := down(t, "--data-dir", a.dataDir)
	if err != nil {
		t.Fatalf("down --data-dir: %v\n%s", err, out)
	}
	t.Logf("down --data-dir:\n%s", out)
	select {
	case <-a.done:
	case <-time.After(5 * time.Second):
		t.Errorf("the up of %s still runs after down", a.dataDir)
	}
	if left, _ := netns.NewDir("").List(netns.Names{Cluster: a.name}.Prefix()); len(left) > 0 {
		t.Errorf("namespaces of %s left: %v", a.name, left)
	}
	if out := b.must(t, "get", "ns"); !strings.Contains(out, "kube-system") {
		t.Errorf("kubectl get ns of the other cluster:\n%s", out)
	}
	if phase := b.podField("sleeper", "{.status.phase}"); phase != "Running" {
		t.Errorf("the other cluster's pod is %q", phase)
	}
	if now := b.podNetnsProcesses(t, "sleeper"); len(now) == 0 || now[0] != before[0] {
		t.Errorf("the other cluster's pod processes: %v, before down %v", now, before)
	}
	t.Run("node namespace sysctls", func(t *testing.T) { b.checkNodeSysctls(t) })
}

// checkNodeSysctls is issue 20's item 1: the node namespace as kubeadm's
// preflight wants it, and up says so.
func (s *sandbox) checkNodeSysctls(t *testing.T) {
	node := netns.NewDir("").Path(netns.Names{Cluster: s.name}.Node(s.name))
	for _, key := range []string{"net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding", "net.bridge.bridge-nf-call-iptables", "net.bridge.bridge-nf-call-ip6tables"} {
		out, err := exec.Command("nsenter", "--net="+node, "cat", netns.SysctlFile("/proc/sys", key)).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "1" {
			t.Errorf("%s in the node namespace: %q %v", key, out, err)
		}
	}
	if !strings.Contains(s.output(), "node namespace sysctls") {
		t.Errorf("up did not log the node's sysctls:\n%s", tail(s.output(), 40))
	}
}

// TestDownAfterUpUnderIPNetnsExec is issue 9's item 6: an up run under
// `ip netns exec` mounts its namespaces in a mount namespace of its own,
// so down, from outside, sees their names only; it still finds the pods'
// processes, from the agent's state, and leaves none naming the data
// directory.
func TestDownAfterUpUnderIPNetnsExec(t *testing.T) {
	t.Parallel()
	needRoot(t)
	needKubectl(t)
	outer := fmt.Sprintf("spe2e-outer-%d-%d", os.Getpid()%100000, sandboxSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", outer).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", outer).Run() })
	if out, err := exec.Command("ip", "netns", "exec", outer, "ip", "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v\n%s", err, out)
	}
	s := startSandboxUnder(t, outer)
	// A process in a session of its own, whose parent exits: neither the
	// init's process group nor its death reach it, only its ancestry.
	escapee := []string{"sleep", strconv.Itoa(7000 + int(sandboxSeq.Add(1)))}
	s.runSleeper(t, "sleeper", "(setsid "+strings.Join(escapee, " ")+" &) ; ")
	if left := running(t, escapee); len(left) != 1 {
		t.Fatalf("the pod's %v: %v", escapee, left)
	}
	if netns.IsMounted(netns.NewDir("").Path(netns.Names{Cluster: s.name}.Node(s.name))) {
		t.Log("the node's namespace is visible outside ip netns exec: down will find its processes by it too")
	}
	out, err := down(t, "--data-dir", s.dataDir)
	t.Logf("down --data-dir:\n%s", out)
	if err != nil {
		t.Fatalf("down: %v", err)
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		t.Errorf("up still runs after down")
	}
	if left := namingDir(t, s.dataDir); len(left) > 0 {
		t.Errorf("processes naming %s left after down: %v", s.dataDir, left)
	}
	if left := running(t, escapee); len(left) > 0 {
		t.Errorf("the pod's %v left after down: %v", escapee, left)
	}
}

// running lists the processes whose command line is args.
func running(t *testing.T, args []string) []proctable.Proc {
	all, err := proctable.List("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []proctable.Proc
	for _, p := range all {
		if slices.Equal(p.Args, args) && p.Alive() {
			out = append(out, p)
		}
	}
	return out
}

// namingDir lists the processes whose command line names dir.
func namingDir(t *testing.T, dir string) []proctable.Proc {
	all, err := proctable.List("/proc")
	if err != nil {
		t.Fatal(err)
	}
	return proctable.Naming(all, dir)
}

// forwardInto forwards a port of the host's loopback to the same port on
// the loopback of namespace outer, where an up under `ip netns exec`
// serves its API, so that the test's kubectl reaches it unchanged.
func forwardInto(t *testing.T, outer string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	target := ln.Addr().String()
	path := netns.NewDir("").Path(outer)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				var up net.Conn
				if netns.Do(path, func() (err error) { up, err = net.Dial("tcp", target); return err }) != nil {
					return
				}
				defer up.Close()
				go func() { _, _ = io.Copy(up, c) }()
				_, _ = io.Copy(c, up)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSandboxUnder starts a sandboxed up through `ip netns exec outer`:
// its API is on outer's loopback, so kubectl runs there too.
func startSandboxUnder(t *testing.T, outer string) *sandbox {
	t.Helper()
	name := fmt.Sprintf("e2e%d-%d", os.Getpid()%100000, sandboxSeq.Add(1))
	dir, port := t.TempDir(), forwardInto(t, outer)
	t.Cleanup(func() {
		_, _ = down(t, "--force", "--sandbox", name, "--data-dir", dir)
		for _, p := range namingDir(t, dir) {
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
	})
	args := []string{"--sandbox", name, "--example=false", "--no-addons"}
	p := &upProcess{t: t, dataDir: dir, port: port, done: make(chan struct{})}
	p.cmd = exec.Command("ip", append([]string{"netns", "exec", outer, binary, "up", "--data-dir", dir, "--secure-port", strconv.Itoa(port)}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p, p
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.kill)
	s := &sandbox{upProcess: p, name: name, args: args}
	s.waitFor(t, 60*time.Second, "svcplane up", func() (bool, string) {
		return strings.Contains(p.output(), "svcplane is up"), ""
	})
	s.waitFor(t, 30*time.Second, "node Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "node", name, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True", out
	})
	return s
}
