package proctable

import (
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	line := "4242 (sv cp) lane)) S 1 4242 4240 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 0 0"
	p, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := Proc{PID: 4242, PPID: 1, PGID: 4242, SID: 4240, StartTicks: 987654, State: "S"}
	if p.PID != want.PID || p.PPID != want.PPID || p.PGID != want.PGID || p.SID != want.SID || p.StartTicks != want.StartTicks || p.State != want.State {
		t.Fatalf("got %+v, want %+v", p, want)
	}
	if _, err := parseStat("12 (x) S 1"); err == nil {
		t.Fatal("short stat parsed")
	}
}

// table is a process tree: the init 10 of a container (a session leader)
// with a shell 11 and its child 12; 20 left its parent but not the
// session; 30 is a tty workload in a session of its own under 10; 40 is
// unrelated, 50 a zombie child of 10, 60 a later process that reused a
// recorded pid.
func table() []Proc {
	return []Proc{
		{PID: 10, PPID: 1, PGID: 10, SID: 10, StartTicks: 100, State: "S", Args: []string{"/usr/bin/svcplane", "internal-init", "/data/agents/n/runtime/pods/u/c/0/init.json"}},
		{PID: 11, PPID: 10, PGID: 10, SID: 10, StartTicks: 101, State: "S", Args: []string{"sh"}},
		{PID: 12, PPID: 11, PGID: 10, SID: 10, StartTicks: 102, State: "R", Args: []string{"sleep", "1000"}},
		{PID: 20, PPID: 1, PGID: 20, SID: 10, StartTicks: 103, State: "S", Args: []string{"daemon"}},
		{PID: 30, PPID: 10, PGID: 30, SID: 30, StartTicks: 104, State: "S", Args: []string{"top"}},
		{PID: 40, PPID: 1, PGID: 40, SID: 40, StartTicks: 50, State: "S", Args: []string{"vim", "/data2/x"}},
		{PID: 50, PPID: 10, PGID: 10, SID: 10, StartTicks: 105, State: "Z"},
		{PID: 60, PPID: 1, PGID: 60, SID: 60, StartTicks: 900, State: "S", Args: []string{"svcplane", "up", "--data-dir=/data"}},
	}
}

func pids(ps []Proc) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String()[:strings.IndexByte(p.String()+" ", ' ')])
	}
	return strings.Join(s, " ")
}

func TestFamily(t *testing.T) {
	cases := []struct {
		name  string
		roots []Ref
		want  string
	}{
		{"init with children, session and tty child", []Ref{{10, 100}}, "10 11 12 20 30"},
		{"a reused pid is not the recorded process", []Ref{{60, 1}}, ""},
		{"no start time: the pid alone", []Ref{{60, 0}}, "60"},
		{"a member's family", []Ref{{11, 101}}, "11 12"},
		{"none", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pids(Family(table(), tc.roots)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestNaming(t *testing.T) {
	cases := []struct{ dir, want string }{
		{"/data", "10 60"},
		{"/data/", "10 60"},
		{"/data2", "40"},
		{"/dat", ""},
	}
	for _, tc := range cases {
		if got := pids(Naming(table(), tc.dir)); got != tc.want {
			t.Errorf("Naming(%s) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}

// TestKillFamily starts a shell with a child in a session of its own,
// finds both from the shell's pid and kills them.
func TestKillFamily(t *testing.T) {
	cmd := exec.Command("sh", "-c", "sleep 600 & sleep 600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
	t.Cleanup(func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	var fam []Proc
	for deadline := time.Now().Add(5 * time.Second); len(fam) < 3 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		all, err := List("/proc")
		if err != nil {
			t.Fatal(err)
		}
		fam = Family(all, []Ref{{PID: cmd.Process.Pid}})
	}
	if len(fam) != 3 {
		t.Fatalf("family of the shell: %v", fam)
	}
	if left := Kill("/proc", fam, 5*time.Second); len(left) > 0 {
		t.Fatalf("left running: %v", left)
	}
}
