package process

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// FakeLauncher pretends to start init processes: each one lives until it
// gets SIGKILL or Exit is called, and on SIGTERM it exits as a workload
// that handles the signal would (code 0). It writes the exit file as the
// real init does.
type FakeLauncher struct {
	mu      sync.Mutex
	next    int
	alive   map[int]bool
	dirs    map[int]string
	Signals []string
}

var _ Launcher = (*FakeLauncher)(nil)

// NewFakeLauncher returns a launcher with no processes.
func NewFakeLauncher() *FakeLauncher {
	return &FakeLauncher{next: 100, alive: map[int]bool{}, dirs: map[int]string{}}
}

// Launch records a running process.
func (f *FakeLauncher) Launch(l Launch) (procRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	f.alive[f.next] = true
	f.dirs[f.next] = filepath.Dir(l.LogPath)
	return procRecord{PID: f.next, StartTicks: uint64(f.next), StartedAt: time.Now()}, nil
}

// Alive says whether the process runs.
func (f *FakeLauncher) Alive(p procRecord) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.alive[p.PID]
}

// Signal records the signal; SIGTERM makes the process exit 0, SIGKILL
// kills it without an exit file.
func (f *FakeLauncher) Signal(p procRecord, sig syscall.Signal, group bool) error {
	f.mu.Lock()
	f.Signals = append(f.Signals, fmt.Sprintf("%d:%s", p.PID, sig))
	f.mu.Unlock()
	switch sig {
	case syscall.SIGTERM:
		return f.Exit(p.PID, 0)
	case syscall.SIGKILL:
		f.mu.Lock()
		delete(f.alive, p.PID)
		f.mu.Unlock()
	}
	return nil
}

// Exit ends process pid with code, writing its exit file.
func (f *FakeLauncher) Exit(pid, code int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.alive[pid] {
		return nil
	}
	delete(f.alive, pid)
	reason := "Completed"
	if code != 0 {
		reason = "Error"
	}
	return writeJSON(filepath.Join(f.dirs[pid], "exit.json"), ExitRecord{ExitCode: code, Reason: reason, FinishedAt: time.Now()})
}

// FilePinner pretends to pin namespaces: it creates and removes the
// files only.
type FilePinner struct{}

// Pin creates the file.
func (FilePinner) Pin(path string, _ int, _ string) error { return os.WriteFile(path, nil, 0o444) }

// Unpin removes it.
func (FilePinner) Unpin(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
