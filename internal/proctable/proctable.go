// Package proctable reads the machine's process table from /proc and
// picks processes out of it: the family of a set of processes (their
// descendants and the members of their sessions) and those whose command
// line names a directory. `svcplane down` uses it to find a cluster's
// processes where their network namespaces cannot be seen.
package proctable

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Proc is one process as /proc shows it.
type Proc struct {
	PID, PPID, PGID, SID int
	// StartTicks is the start time in clock ticks since boot: with the
	// pid, it tells a process from a later one reusing its pid.
	StartTicks uint64
	State      string
	Args       []string
}

// Ref names one process: a pid and, when known (not 0), its start time.
type Ref struct {
	PID        int
	StartTicks uint64
}

// Read reads process pid from the /proc at root.
func Read(root string, pid int) (Proc, error) {
	dir := filepath.Join(root, strconv.Itoa(pid))
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return Proc{}, err
	}
	p, err := parseStat(string(stat))
	if err != nil {
		return Proc{}, fmt.Errorf("process %d: %w", pid, err)
	}
	if cmdline, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
		p.Args = splitCmdline(cmdline)
	}
	return p, nil
}

// parseStat reads the fields of /proc/<pid>/stat that Proc keeps.
func parseStat(s string) (Proc, error) {
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return Proc{}, errors.New("malformed stat")
	}
	pid, err := strconv.Atoi(strings.TrimSpace(s[:open]))
	f := strings.Fields(s[closing+1:])
	if err != nil || len(f) < 20 {
		return Proc{}, errors.New("malformed stat")
	}
	p := Proc{PID: pid, State: f[0]}
	nums := []*int{&p.PPID, &p.PGID, &p.SID}
	for i, n := range nums {
		if *n, err = strconv.Atoi(f[1+i]); err != nil {
			return Proc{}, errors.New("malformed stat")
		}
	}
	if p.StartTicks, err = strconv.ParseUint(f[19], 10, 64); err != nil {
		return Proc{}, errors.New("malformed stat")
	}
	return p, nil
}

func splitCmdline(b []byte) []string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// List reads every process of the /proc at root (but the caller).
func List(root string) ([]Proc, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []Proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if p, err := Read(root, pid); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Alive says whether p runs (is not a zombie).
func (p Proc) Alive() bool { return p.State != "Z" && p.State != "X" }

// Matches says whether p is the process r names.
func (r Ref) Matches(p Proc) bool {
	return p.PID == r.PID && (r.StartTicks == 0 || r.StartTicks == p.StartTicks)
}

// Family returns the live processes among all that roots name, their
// descendants, and every member of a session or process group one of
// them leads, sorted by pid.
func Family(all []Proc, roots []Ref) []Proc {
	in := map[int]bool{}
	for _, p := range all {
		for _, r := range roots {
			if r.Matches(p) {
				in[p.PID] = true
			}
		}
	}
	leaders := map[int]bool{}
	for pid := range in {
		leaders[pid] = true
	}
	for grew := true; grew; {
		grew = false
		for _, p := range all {
			if !in[p.PID] && (in[p.PPID] || leaders[p.SID] || leaders[p.PGID]) {
				in[p.PID], grew = true, true
			}
		}
	}
	return pick(all, func(p Proc) bool { return in[p.PID] })
}

// Naming returns the live processes among all with an argument that is dir
// or a path under it, sorted by pid.
func Naming(all []Proc, dir string) []Proc {
	dir = filepath.Clean(dir)
	return pick(all, func(p Proc) bool {
		return slices.ContainsFunc(p.Args, func(a string) bool { return namesDir(a, dir) })
	})
}

// namesDir says whether the argument a is dir, a path under it, or a
// flag whose value is (--data-dir=dir).
func namesDir(a, dir string) bool {
	if i := strings.IndexByte(a, '='); i >= 0 && strings.HasPrefix(a, "-") {
		a = a[i+1:]
	}
	return a == dir || strings.HasPrefix(a, dir+"/")
}

func pick(all []Proc, keep func(Proc) bool) []Proc {
	var out []Proc
	for _, p := range all {
		if p.Alive() && keep(p) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Proc) int { return a.PID - b.PID })
	return out
}

// Refs names procs.
func Refs(procs []Proc) []Ref {
	out := make([]Ref, len(procs))
	for i, p := range procs {
		out[i] = Ref{PID: p.PID, StartTicks: p.StartTicks}
	}
	return out
}

// Kill sends SIGKILL to each of procs (and, for a group leader, its
// group) and waits up to timeout until none of them runs. It returns
// those still running then.
func Kill(root string, procs []Proc, timeout time.Duration) []Proc {
	refs := Refs(procs)
	for deadline := time.Now().Add(timeout); ; {
		left := running(root, refs)
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		for _, p := range left {
			if p.PGID == p.PID {
				_ = syscall.Kill(-p.PID, syscall.SIGKILL)
			}
			_ = syscall.Kill(p.PID, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// running returns the processes of refs that still run.
func running(root string, refs []Ref) []Proc {
	var out []Proc
	for _, r := range refs {
		if p, err := Read(root, r.PID); err == nil && r.Matches(p) && p.Alive() {
			out = append(out, p)
		}
	}
	return out
}

// String is "pid (command)".
func (p Proc) String() string {
	if len(p.Args) == 0 {
		return strconv.Itoa(p.PID)
	}
	return fmt.Sprintf("%d (%s)", p.PID, strings.Join(p.Args, " "))
}
