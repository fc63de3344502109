package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage/diskguard"
)

// TestFullDiskRefusesWritesAndRecovers runs a cluster on a small tmpfs,
// fills it: writes fail with a clear error while kubectl get keeps
// answering; after the tmpfs grows, writes work again without a restart
// and nothing acknowledged is lost.
func TestFullDiskRefusesWritesAndRecovers(t *testing.T) {
	needRoot(t)
	needKubectl(t)
	dir := tmpfs(t, "400m")
	p := startUp(t, dir, freePort(t), "--example=false")
	mustKubectl(t, p, "create", "configmap", "before", "--from-literal=k=v")

	free, err := diskguard.FreeBytes(dir)
	if err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	if out, err := exec.Command("fallocate", "-l", fmt.Sprint(free-(16<<20)), filler).CombinedOutput(); err != nil {
		t.Fatalf("fill the tmpfs: %v %s", err, out)
	}
	out, err := p.kubectl("create", "configmap", "during", "--from-literal=k=v")
	if err == nil || !strings.Contains(out, "insufficient storage") {
		t.Fatalf("write on a full disk: %v %s", err, out)
	}
	t.Logf("write on a full disk: %s", strings.TrimSpace(out))
	for range 3 {
		if got := mustKubectl(t, p, "get", "configmap", "before", "-o", "jsonpath={.data.k}"); got != "v" {
			t.Fatalf("read on a full disk: %q", got)
		}
		time.Sleep(time.Second)
	}
	mustKubectl(t, p, "get", "namespaces")

	if out, err := exec.Command("mount", "-o", "remount,size=800m", dir).CombinedOutput(); err != nil {
		t.Fatalf("grow the tmpfs: %v %s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		out, err := p.kubectl("create", "configmap", "after", "--from-literal=k=v")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("writes did not resume after space returned: %s", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := mustKubectl(t, p, "get", "configmaps", "-o", "name"); !strings.Contains(got, "before") || strings.Contains(got, "during") {
		t.Fatalf("configmaps after recovery: %s", got)
	}
	select {
	case <-p.done:
		t.Fatalf("svcplane up exited:\n%s", p.output())
	default:
	}
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestStopEndsKubectlWatchCleanly stops `svcplane up` while kubectl get
// pods -w runs: kubectl ends without printing an error.
func TestStopEndsKubectlWatchCleanly(t *testing.T) {
	needKubectl(t)
	p := startUp(t, t.TempDir(), freePort(t), "--example=false")
	mustKubectl(t, p, "get", "pods", "-A")
	cmd := exec.Command("kubectl", "--cache-dir", filepath.Join(p.dataDir, "kubectl-cache"), "get", "pods", "-A", "-w")
	cmd.Env = append(os.Environ(), "KUBECONFIG="+p.kubeconfig())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill() }()
	time.Sleep(2 * time.Second) // the watch is open
	if err := p.stop(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil || strings.Contains(out.String(), "rror") {
			t.Fatalf("kubectl get -w at shutdown: %v\n%s", err, out.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kubectl get -w did not end with the server")
	}
}

// tmpfs mounts a tmpfs of size on a fresh directory, unmounted when the
// test ends (after the cluster on it has stopped), even on failure.
func tmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs: %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("unmount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

func mustKubectl(t *testing.T, p *upProcess, args ...string) string {
	t.Helper()
	out, err := p.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}
