package process

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/container"
	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

func newTestRuntime(t *testing.T, root string, fk *netns.Fake, l *FakeLauncher) *Runtime {
	t.Helper()
	r, err := New(Config{
		Root: root, Names: netns.Names{Cluster: "t"}, Namespaces: fk, Network: fk,
		PodCIDR: netip.MustParsePrefix("10.244.1.0/24"), NodeIP: netip.MustParseAddr("10.240.0.2"),
		Launcher: l, Pinner: FilePinner{}, InitArgv: []string{"/svcplane", "internal-init"}, PollInterval: 10 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func testPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "web", UID: "uid-1"},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "a"}, {Name: "b"}, {Name: "c"}}}}
}

func TestSandboxContainersAndAdoption(t *testing.T) {
	root, fk, l := t.TempDir(), netns.NewFake(), NewFakeLauncher()
	r := newTestRuntime(t, root, fk, l)
	ctx := context.Background()
	sb, err := r.EnsureSandbox(ctx, testPod())
	if err != nil {
		t.Fatal(err)
	}
	if sb.IP.String() != "10.244.1.2" || !strings.Contains(fk.Dump(), "veth "+netns.HostVeth("uid-1")+" master spbr0") {
		t.Fatalf("sandbox %+v; network:\n%s", sb, fk.Dump())
	}
	spec := runtime.ContainerSpec{Pod: testPod(), Name: "c", Argv: []string{"sleep", "1"}, Hostname: "web",
		Hosts: "127.0.0.1\tlocalhost\n", ResolvConf: "nameserver 10.96.0.10\n", Stdin: true}
	if err := r.Start(ctx, spec); err != nil {
		t.Fatal(err)
	}
	var init InitSpec
	if _, err := readJSON(filepath.Join(root, "pods/uid-1/c/0/init.json"), &init); err != nil || init.StdinFIFO == "" {
		t.Fatalf("init spec %+v %v", init, err)
	}
	plan, err := container.ReadPlan(init.Plan)
	if err != nil {
		t.Fatal(err)
	}
	var binds []string
	for _, m := range plan.Mounts {
		if m.Type == "bind" {
			binds = append(binds, m.Destination)
		}
	}
	ipc, _ := plan.Namespace(specs.IPCNamespace)
	if plan.Hostname != "web" || strings.Join(binds, " ") != "/dev/termination-log /etc/hostname /etc/hosts /etc/resolv.conf" ||
		ipc != filepath.Join(root, "pods/uid-1/ipc") {
		t.Fatalf("plan: hostname %q, binds %v, ipc %q", plan.Hostname, binds, ipc)
	}
	// A new runtime over the same root adopts the running container.
	r2 := newTestRuntime(t, root, fk, l)
	st, ok := r2.Pod("uid-1")
	if c, _ := st.Container("c"); !ok || !c.Running || st.Sandbox.IP != sb.IP {
		t.Fatalf("adopted state %+v", st)
	}
	if err := r2.Stop(ctx, "uid-1", "c", time.Second); err != nil {
		t.Fatal(err)
	}
	st, _ = r2.Pod("uid-1")
	if c, _ := st.Container("c"); c.Running || c.Reason != "Completed" {
		t.Fatalf("after stop %+v", c)
	}
	if err := r2.RemoveSandbox(ctx, "uid-1"); err != nil {
		t.Fatal(err)
	}
	if got := fk.Dump(); got != "bridge spbr0 10.244.1.1/24" {
		t.Fatalf("left after remove:\n%s", got)
	}
	if _, err := os.Stat(filepath.Join(root, "pods/uid-1")); !os.IsNotExist(err) { // with its pinned IPC namespace
		t.Fatalf("pod dir left: %v", err)
	}
}

func TestExitIsReportedAndKillWithoutExitFileIs137(t *testing.T) {
	fk, l := netns.NewFake(), NewFakeLauncher()
	r := newTestRuntime(t, t.TempDir(), fk, l)
	ctx := context.Background()
	if _, err := r.EnsureSandbox(ctx, testPod()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a", "b"} {
		if err := r.Start(ctx, runtime.ContainerSpec{Pod: testPod(), Name: name, Argv: []string{"x"}}); err != nil {
			t.Fatal(err)
		}
	}
	_ = l.Exit(101, 3)
	select {
	case uid := <-r.Events():
		if uid != "uid-1" {
			t.Fatalf("event for %s", uid)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for the exit")
	}
	st, _ := r.Pod("uid-1")
	if a, _ := st.Container("a"); a.Running || a.ExitCode != 3 || a.Reason != "Error" {
		t.Fatalf("a: %+v", a)
	}
	_ = l.Signal(procRecord{PID: 102}, 9, true)
	if err := r.Stop(ctx, "uid-1", "b", 0); err != nil {
		t.Fatal(err)
	}
	st, _ = r.Pod("uid-1")
	if b, _ := st.Container("b"); b.ExitCode != 137 {
		t.Fatalf("b: %+v", b)
	}
}
