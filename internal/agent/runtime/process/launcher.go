package process

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Launcher starts container init processes and checks on them: the seam
// between the runtime and the kernel's process table.
type Launcher interface {
	// Launch starts the init of one container instance.
	Launch(l Launch) (procRecord, error)
	// Alive says whether the process p still runs (not a zombie, not a
	// later process that reused its pid).
	Alive(p procRecord) bool
	// Signal sends sig to p; with group, to its whole process group.
	Signal(p procRecord, sig syscall.Signal, group bool) error
}

// Launch is one init process to start.
type Launch struct {
	// Argv runs the init (the svcplane binary's internal-init).
	Argv []string
	// LogPath receives its stdout and stderr, appended.
	LogPath string
}

// Exec is the Launcher of real processes.
type Exec struct{}

var _ Launcher = Exec{}

// Launch starts the init in a session of its own, so that it outlives the
// agent, and reaps it in the background.
func (Exec) Launch(l Launch) (procRecord, error) {
	log, err := os.OpenFile(l.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return procRecord{}, fmt.Errorf("open log: %w", err)
	}
	defer log.Close()
	cmd := exec.Command(l.Argv[0], l.Argv[1:]...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	ready, readyW, err := os.Pipe()
	if err != nil {
		return procRecord{}, err
	}
	defer ready.Close()
	cmd.ExtraFiles = []*os.File{readyW}
	err = cmd.Start()
	readyW.Close()
	if err != nil {
		return procRecord{}, fmt.Errorf("start init: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	ticks, _ := startTicks(cmd.Process.Pid)
	waitReady(ready, 10*time.Second)
	return procRecord{PID: cmd.Process.Pid, StartTicks: ticks, StartedAt: time.Now()}, nil
}

// readyFD is the init's end of the pipe it closes once it handles
// signals and its workload runs (or failed to start): before that, a
// SIGTERM would kill the init without reaching the workload.
const readyFD = 3

// waitReady waits until the init closes its end of the pipe, or the
// timeout.
func waitReady(r *os.File, timeout time.Duration) {
	_ = r.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	_, _ = r.Read(b[:])
}

// Alive reads /proc/<pid>/stat.
func (Exec) Alive(p procRecord) bool {
	ticks, state, err := readStat(p.PID)
	return err == nil && ticks == p.StartTicks && state != "Z" && state != "X"
}

// Signal sends sig to the process or its group.
func (e Exec) Signal(p procRecord, sig syscall.Signal, group bool) error {
	if !e.Alive(p) {
		return nil
	}
	pid := p.PID
	if group {
		pid = -pid
	}
	if err := syscall.Kill(pid, sig); err != nil && err != syscall.ESRCH {
		return fmt.Errorf("signal %d: %w", p.PID, err)
	}
	return nil
}

func startTicks(pid int) (uint64, error) {
	t, _, err := readStat(pid)
	return t, err
}

// readStat returns a process's start time (in clock ticks since boot) and
// state letter from /proc/<pid>/stat.
func readStat(pid int) (uint64, string, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, "", fmt.Errorf("parse stat of %d", pid)
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 20 {
		return 0, "", fmt.Errorf("parse stat of %d", pid)
	}
	ticks, err := strconv.ParseUint(fields[19], 10, 64)
	return ticks, fields[0], err
}
