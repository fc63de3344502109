package process

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/agent/container"
	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

// TestMain lets the test binary be `svcplane internal-container --join`
// for the exec tests.
func TestMain(m *testing.M) {
	if a := os.Args; len(a) > 4 && a[1] == "internal-container" && a[2] == "--join" && a[4] == "--" {
		os.Exit(container.RunJoin(a[3], a[5:]))
	}
	os.Exit(m.Run())
}

// TestExecIntoLegacyContainer: a container started by an svcplane from
// before plans (init.json with argv, env, dir and netnsPath, no plan)
// still runs after an upgrade; exec enters its init's mount and UTS
// namespaces and the pod's network namespace, with its env and dir.
func TestExecIntoLegacyContainer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make namespaces")
	}
	marker := t.TempDir()
	// The old init: mount, UTS and network namespaces of its own, a
	// hostname, and a file on a tmpfs only its mount namespace has.
	old := exec.Command("/bin/sh", "-c", "mount --make-rprivate / && hostname legacy-pod && mount -t tmpfs tmpfs "+marker+
		" && echo inside > "+marker+"/f && echo ready && exec sleep 60")
	old.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWUTS | syscall.CLONE_NEWNET}
	out, err := old.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	old.Stderr = os.Stderr
	if err := old.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = old.Process.Kill(); _ = old.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		t.Fatalf("the old init did not start: %q", line)
	}
	pid := old.Process.Pid
	ticks, err := startTicks(pid)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	netnsPath := "/proc/" + strconv.Itoa(pid) + "/ns/net"
	dir := filepath.Join(root, "pods/uid-old/c/0")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeTestJSON(t, filepath.Join(root, "pods/uid-old/pod.json"), podRecord{Namespace: "default", Name: "old", UID: "uid-old", IP: "10.244.1.9", NetnsPath: netnsPath})
	writeTestJSON(t, filepath.Join(dir, "init.json"), map[string]any{"netnsPath": netnsPath, "hostname": "legacy-pod",
		"argv": []string{"sleep", "60"}, "env": []string{"PATH=/usr/bin:/bin", "LEGACY=yes"}, "dir": "/tmp", "exitFile": filepath.Join(dir, "exit.json")})
	writeTestJSON(t, filepath.Join(dir, "proc.json"), procRecord{PID: pid, StartTicks: ticks, StartedAt: time.Now()})

	r, err := New(Config{
		Root: root, Names: netns.Names{Cluster: "t"}, Namespaces: netns.NewFake(), Network: netns.NewFake(),
		PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), NodeIP: netip.MustParseAddr("10.240.0.2"),
		Launcher: Exec{}, Pinner: FilePinner{}, ContainerArgv: []string{os.Args[0], "internal-container"},
		PollInterval: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	code, err := r.Exec(context.Background(), runtime.ExecRequest{UID: "uid-old", Container: "c", Stdout: &stdout, Stderr: &stderr,
		Command: []string{"sh", "-c", "hostname; cat " + marker + "/f; echo $LEGACY; pwd; grep -c : /proc/net/dev"}})
	if err != nil || code != 0 {
		t.Fatalf("exec: %d %v\n%s", code, err, stderr.String())
	}
	// /proc/net/dev of a fresh network namespace lists lo alone.
	if got, want := stdout.String(), "legacy-pod\ninside\nyes\n/tmp\n1\n"; got != want {
		t.Errorf("exec printed %q, want %q (stderr %q)", got, want, strings.TrimSpace(stderr.String()))
	}
}

func writeTestJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := writeJSON(path, v); err != nil {
		t.Fatal(err)
	}
}
