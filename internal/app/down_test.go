package app

import (
	"bytes"
	"context"
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

	"github.com/svcplane/svcplane/internal/clusterdir"
	"github.com/svcplane/svcplane/internal/proctable"
)

// downWorld is a machine for down: a registry, a namespace directory
// (plain files, as a down outside up's mount namespace sees them) and
// data directories.
type downWorld struct {
	reg   clusterdir.Registry
	netns string
}

func newDownWorld(t *testing.T) downWorld {
	root := t.TempDir()
	return downWorld{reg: clusterdir.Registry{Root: filepath.Join(root, "clusters")}, netns: filepath.Join(root, "netns")}
}

// cluster makes a data directory whose up ran cluster name, with a
// namespace file per kind; running keeps its lock held by this process.
func (w downWorld) cluster(t *testing.T, name string, running bool) string {
	dir := t.TempDir()
	l, err := clusterdir.Claim(dir, clusterdir.Record{Name: name, Sandbox: true}, w.reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.reg.Register(name, dir); err != nil {
		t.Fatal(err)
	}
	if running {
		t.Cleanup(l.Release)
	} else {
		l.Release()
	}
	if err := os.MkdirAll(w.netns, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"sp-" + name + "-node-" + name, "sp-" + name + "-pod-default-web-0a1b2c3d"} {
		if err := os.WriteFile(filepath.Join(w.netns, n), nil, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func (w downWorld) down(cfg DownConfig) (string, error) {
	var out bytes.Buffer
	cfg.Registry, cfg.NetnsDir, cfg.Out = w.reg, w.netns, &out
	err := RunDown(context.Background(), cfg)
	return out.String(), err
}

func (w downWorld) left(name string) []string {
	m, _ := filepath.Glob(filepath.Join(w.netns, "sp-"+name+"-*"))
	return m
}

// recordPod writes agent state for a pod whose container's init is a
// real process in a session of its own, with a child, as the runtime
// starts them; it returns the init.
func recordPod(t *testing.T, dataDir string) *exec.Cmd {
	cmd := exec.Command("sh", "-c", "sleep 600 & exec sleep 600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	// The shell forks the background sleep before it execs: wait until
	// both are in the process group, or down may find only one.
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, _ := exec.Command("pgrep", "-g", strconv.Itoa(cmd.Process.Pid)).Output()
		if len(strings.Fields(string(out))) >= 2 && strings.Contains(procComm(cmd.Process.Pid), "sleep") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	p, err := proctable.Read("/proc", cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	inst := filepath.Join(dataDir, "agents", "node", "runtime", "pods", "uid-1", "c", "0")
	if err := os.MkdirAll(inst, 0o755); err != nil {
		t.Fatal(err)
	}
	rec := fmt.Sprintf(`{"pid":%d,"startTicks":%d}`, p.PID, p.StartTicks)
	if err := os.WriteFile(filepath.Join(inst, "proc.json"), []byte(rec), 0o644); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// procComm is the command name of pid.
func procComm(pid int) string {
	b, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	return string(b)
}

// TestDownDataDirRemovesItsOwnCluster: the data directory's cluster goes,
// with its pods' processes found from the state files alone; the other
// cluster, held by a running up, stays.
func TestDownDataDirRemovesItsOwnCluster(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: down unmounts namespace files")
	}
	w := newDownWorld(t)
	blue := w.cluster(t, "blue", false)
	w.cluster(t, "green", true)
	init := recordPod(t, blue)
	out, err := w.down(DownConfig{DataDir: blue})
	if err != nil {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if left := w.left("blue"); len(left) > 0 {
		t.Errorf("blue's namespaces left: %v\n%s", left, out)
	}
	if len(w.left("green")) != 2 {
		t.Errorf("green's namespaces touched:\n%s", out)
	}
	if p, err := proctable.Read("/proc", init.Process.Pid); err == nil && p.Alive() {
		t.Errorf("the pod's init %v still runs:\n%s", p, out)
	}
	if _, err := os.Stat(filepath.Join(blue, "agents")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("agent state left: %v", err)
	}
	for _, want := range []string{"removing cluster blue", "killed 2 processes", "not mounted here"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if w.reg.Lookup("blue") != "" || w.reg.Lookup("green") == "" {
		t.Errorf("registry after down: blue=%q green=%q", w.reg.Lookup("blue"), w.reg.Lookup("green"))
	}
}

func TestDownRefuses(t *testing.T) {
	w := newDownWorld(t)
	w.cluster(t, "blue", false)
	green := w.cluster(t, "green", true)
	cases := []struct {
		name    string
		cfg     DownConfig
		wantErr string
		wantOut string
	}{
		{"nothing named, two clusters", DownConfig{}, "several clusters", "svcplane clusters on this machine:\n  blue"},
		{"a name that a running up holds", DownConfig{Sandbox: "green"}, "is run by svcplane up (pid " + fmt.Sprint(os.Getpid()) + ") from data directory " + green, "removing cluster green"},
		{"a data directory of another cluster", DownConfig{Sandbox: "blue", DataDir: green}, `belongs to cluster "green", not "blue"`, ""},
		{"a bad name", DownConfig{Sandbox: "Blue!"}, "invalid sandbox name", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := w.down(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(out, tc.wantOut) {
				t.Errorf("output lacks %q:\n%s", tc.wantOut, out)
			}
			if len(w.left("blue")) != 2 || len(w.left("green")) != 2 {
				t.Errorf("namespaces touched:\n%s", out)
			}
		})
	}
}

func TestDownNothingThere(t *testing.T) {
	w := newDownWorld(t)
	out, err := w.down(DownConfig{})
	if err != nil || !strings.Contains(out, "nothing to remove") {
		t.Fatalf("down: %v\n%s", err, out)
	}
}
