package cgroups

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// fakeFS is a plain directory standing for cgroupfs: writing a control
// file creates it, and a cgroup with cgroups below it cannot be removed.
type fakeFS struct{}

func (fakeFS) Mkdir(dir string) error { return os.Mkdir(dir, 0o755) }

func (fakeFS) Rmdir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(entries, os.DirEntry.IsDir) {
		return syscall.EBUSY
	}
	return os.RemoveAll(dir)
}

func (fakeFS) Write(file, value string) error            { return os.WriteFile(file, []byte(value), 0o644) }
func (fakeFS) ReadFile(file string) ([]byte, error)      { return os.ReadFile(file) }
func (fakeFS) ReadDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }
func (fakeFS) Stat(path string) (os.FileInfo, error)     { return os.Stat(path) }

func read(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDelegate(t *testing.T) {
	tests := []struct {
		name, path string
		busy       string // the cgroup (relative) that holds processes
		want       string
	}{
		{"own cgroup without processes", "/a/b", "", "a/b"},
		{"own cgroup holds processes: its parent", "/a/b", "a/b", "a"},
		{"root", "/", "", ""},
		{"root holds processes but is exempt", "/", ".", ""},
	}
	for _, tc := range tests {
		mount := t.TempDir()
		var enabled []string
		write := func(file string, _ []byte, _ os.FileMode) error {
			dir, _ := filepath.Rel(mount, filepath.Dir(file))
			if dir == tc.busy && dir != "." {
				return syscall.EBUSY
			}
			enabled = append(enabled, dir)
			return nil
		}
		got, err := delegate(mount, tc.path, write)
		if want := filepath.Join(mount, tc.want); err != nil || got != want {
			t.Errorf("%s: delegate = %q, %v; want %q (enabled in %v)", tc.name, got, err, want, enabled)
		}
	}
}

func TestDelegateError(t *testing.T) {
	write := func(string, []byte, os.FileMode) error { return syscall.EACCES }
	if _, err := delegate(t.TempDir(), "/a", write); !errors.Is(err, syscall.EACCES) {
		t.Errorf("delegate with writes refused: %v, want EACCES", err)
	}
}

func fakeV2(t *testing.T) (*Node, string) {
	base := t.TempDir()
	n, err := newNode(Config{Name: "svcplane-c-n"}, layout{v2: true, trees: []hierarchy{{[]string{"cpu", "memory", "pids"}, base}}}, fakeFS{})
	if err != nil {
		t.Fatal(err)
	}
	return n, filepath.Join(base, "svcplane-c-n")
}

func TestFakeV2(t *testing.T) {
	n, root := fakeV2(t)
	pod := testPod("u1", ctr("app", res("1", "1Gi", "1", "1Gi")), ctr("side", res("500m", "512Mi", "500m", "512Mi")))
	pod.Status.QOSClass = corev1.PodQOSGuaranteed
	p, err := n.EnsurePod(pod)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Container("app", 3, Plan(pod, &pod.Spec.Containers[0]))
	if err != nil {
		t.Fatal(err)
	}
	podDir, ctrDir := filepath.Join(root, "kubepods/podu1"), filepath.Join(root, "kubepods/podu1/app_3")
	want := map[string]string{
		"cgroup.subtree_control":                     "+cpu +memory +pids",
		"kubepods/besteffort/cpu.weight":             "1",
		"kubepods/besteffort/cgroup.subtree_control": "+cpu +memory +pids",
		"kubepods/podu1/cgroup.subtree_control":      "+cpu +memory +pids",
		"kubepods/podu1/memory.max":                  "1610612736",
		"kubepods/podu1/cpu.max":                     "150000 100000",
		"kubepods/podu1/cpu.weight":                  "138",
		"kubepods/podu1/pids.max":                    "4096",
		"kubepods/podu1/app_3/memory.max":            "1073741824",
		"kubepods/podu1/app_3/cpu.max":               "100000 100000",
		"kubepods/podu1/app_3/cpu.weight":            "100",
	}
	for file, v := range want {
		if got := read(t, filepath.Join(root, file)); got != v {
			t.Errorf("%s = %q, want %q", file, got, v)
		}
	}
	if _, err := os.Stat(filepath.Join(ctrDir, "cgroup.subtree_control")); err == nil {
		t.Error("a container's cgroup passes controllers on")
	}
	if got := c.Procs(); !slices.Equal(got, []string{ctrDir + "/cgroup.procs"}) {
		t.Errorf("Procs() = %v", got)
	}
	checkOOM(t, c, filepath.Join(ctrDir, "memory.events"), "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\noom_group_kill 0\n")
	checkReattach(t, n, "u1", "app", 3)
	if err := n.RemovePod("u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(podDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pod cgroup left after RemovePod: %v", err)
	}
	if err := n.Cleanup(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("node root left after Cleanup: %v", err)
	}
}

func checkOOM(t *testing.T, c Container, events, content string) {
	t.Helper()
	if oom, err := c.OOMKilled(); err == nil || oom {
		t.Errorf("OOMKilled without memory.events: %v, %v; want an error", oom, err)
	}
	if err := os.WriteFile(events, []byte(strings.Replace(content, "oom_kill 1", "oom_kill 0", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if oom, err := c.OOMKilled(); err != nil || oom {
		t.Errorf("OOMKilled with oom_kill 0: %v, %v", oom, err)
	}
	if err := os.WriteFile(events, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if oom, err := c.OOMKilled(); err != nil || !oom {
		t.Errorf("OOMKilled with oom_kill 1: %v, %v", oom, err)
	}
}

func checkReattach(t *testing.T, n *Node, uid, name string, attempt int) {
	t.Helper()
	pods, err := n.Pods()
	if err != nil || len(pods) != 1 || string(pods[0].UID) != uid {
		t.Fatalf("Pods() = %+v, %v", pods, err)
	}
	cs, err := pods[0].Containers()
	if err != nil || len(cs) != 1 || cs[0].Name != name || cs[0].Attempt != attempt {
		t.Fatalf("Containers() = %+v, %v", cs, err)
	}
}

func TestWritesV1(t *testing.T) {
	s := Settings{MemoryLimit: 1 << 20, CPUQuota: 5000, CPUPeriod: 100000, CPUShares: 51, PidsLimit: 20}
	got := writes(s, false, "memory.memsw.limit_in_bytes")
	want := []write{
		{"memory", "memory.limit_in_bytes", "1048576"},
		{"memory", "memory.memsw.limit_in_bytes", "1048576"},
		{"cpu", "cpu.shares", "51"},
		{"cpu", "cpu.cfs_period_us", "100000"},
		{"cpu", "cpu.cfs_quota_us", "5000"},
		{"pids", "pids.max", "20"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("writes = %v, want %v", got, want)
	}
	if got := writes(Settings{}, false, ""); len(got) != 0 {
		t.Errorf("no settings write %v", got)
	}
	if got := writes(Settings{MemoryLimit: 5}, true, "memory.swap.max"); !slices.Equal(got, []write{{"memory", "memory.max", "5"}, {"memory", "memory.swap.max", "0"}}) {
		t.Errorf("v2 memory writes %v", got)
	}
}

func TestBadNames(t *testing.T) {
	if _, err := New(Config{Name: "a/b"}); err == nil {
		t.Error("New accepted a name with a slash")
	}
	n, _ := fakeV2(t)
	if _, err := n.EnsurePod(testPod("../x")); err == nil {
		t.Error("EnsurePod accepted uid ../x")
	}
	p, err := n.EnsurePod(testPod("u"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "..", "a/b", "a_b"} {
		if _, err := p.Container(name, 0, Settings{}); err == nil {
			t.Errorf("Container accepted name %q", name)
		}
	}
	if _, err := p.Container("a", -1, Settings{}); err == nil {
		t.Error("Container accepted attempt -1")
	}
}
