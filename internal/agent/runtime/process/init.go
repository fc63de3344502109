package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/agent/container"
)

// InitSpec is what `svcplane internal-init` runs: the shim of one
// container instance. It stays in the node's namespaces, starts the
// container's first process (`svcplane internal-container PLAN`) in the
// namespaces of the plan, passes signals and stdin on, and records the
// exit. The workload is pid 1 of its own PID namespace, as under runc.
type InitSpec struct {
	// Plan is the container's plan (package container), written beside.
	Plan      string `json:"plan"`
	ExitFile  string `json:"exitFile"`
	StdinFIFO string `json:"stdinFifo,omitempty"`
	TTY       bool   `json:"tty,omitempty"`
	// PIDFile receives the container process's pid (in the node's PID
	// namespace), which exec joins.
	PIDFile string `json:"pidFile"`
}

// closeStdinSignal tells the init to close the workload's stdin (the end
// of a stdinOnce attach).
const closeStdinSignal = syscall.SIGUSR1

// RunInit is `svcplane internal-init <spec file>`. It returns the exit code
// for the process, the workload's.
func RunInit(specPath string) int {
	syscall.CloseOnExec(readyFD) // the workload must not hold the runtime's pipe
	var spec InitSpec
	if _, err := readJSON(specPath, &spec); err != nil {
		fmt.Fprintln(os.Stderr, "internal-init:", err)
		return 128
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, closeStdinSignal)
	code, rec := runWorkload(spec, sigs)
	rec.ExitCode, rec.FinishedAt = code, time.Now()
	if err := writeJSON(spec.ExitFile, rec); err != nil {
		fmt.Fprintln(os.Stderr, "internal-init:", err)
	}
	return code
}

func runWorkload(spec InitSpec, sigs <-chan os.Signal) (int, ExitRecord) {
	plan, err := container.ReadPlan(spec.Plan)
	if err != nil {
		return 128, ExitRecord{Reason: "StartError", Message: err.Error()}
	}
	cmd, stdio, err := buildCommand(spec, plan)
	if err != nil {
		return 128, ExitRecord{Reason: "StartError", Message: err.Error()}
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return 128, ExitRecord{Reason: "StartError", Message: err.Error()}
	}
	cmd.ExtraFiles = []*os.File{errW}
	started := make(chan error, 1)
	waited := make(chan error, 1)
	go startAndWait(plan, cmd, started, waited)
	err = <-started
	errW.Close()
	if err != nil {
		errR.Close()
		return 128, ExitRecord{Reason: "StartError", Message: fmt.Sprintf("failed to create containerd task: %v", err)}
	}
	if msg := readAll(errR); msg != "" {
		<-waited
		return 128, ExitRecord{Reason: "StartError", Message: "failed to create containerd task: failed to create shim task: " +
			"OCI runtime create failed: runc create failed: unable to start container process: " + msg + ": unknown"}
	}
	_ = os.WriteFile(spec.PIDFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644)
	stdio.run(cmd.Process, sigs)
	signalReady()
	err = <-waited
	stdio.drain()
	return exitCode(cmd, err)
}

// readAll reads what the container's first process reported before it
// executed the workload (nothing when the exec succeeded).
func readAll(r *os.File) string {
	defer r.Close()
	b, _ := io.ReadAll(r)
	return string(b)
}

// signalReady closes the pipe the runtime waits on; every way out of
// runWorkload closes it too, when the process exits.
func signalReady() {
	if f := os.NewFile(readyFD, "ready"); f != nil {
		f.Close()
	}
}

func exitCode(cmd *exec.Cmd, err error) (int, ExitRecord) {
	code := exitStatusCode(cmd.ProcessState)
	switch {
	case code == 0:
		return 0, ExitRecord{Reason: "Completed"}
	case err != nil && !isExitError(err):
		return code, ExitRecord{Reason: "Error", Message: err.Error()}
	}
	return code, ExitRecord{Reason: "Error"}
}

func isExitError(err error) bool {
	var ee *exec.ExitError
	return errors.As(err, &ee)
}

// buildCommand prepares the container's first process with its stdio.
func buildCommand(spec InitSpec, plan container.Plan) (*exec.Cmd, *stdio, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	cmd := &exec.Cmd{Path: self, Args: []string{self, "internal-container", spec.Plan}, Env: plan.Process.Env}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneFlags(plan)}
	if path, _ := plan.Namespace(specs.PIDNamespace); path == "" {
		// Go's check that the parent still lives fails for a child born
		// in a PID namespace joined with setns (its parent pid reads 0)
		// and kills it; such a child sets its parent-death signal itself.
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	s, err := newStdio(spec, cmd)
	if err != nil {
		return nil, nil, err
	}
	return cmd, s, nil
}

// nsFlags are the clone flags of the namespace kinds.
var nsFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.MountNamespace: unix.CLONE_NEWNS, specs.UTSNamespace: unix.CLONE_NEWUTS,
	specs.IPCNamespace: unix.CLONE_NEWIPC, specs.PIDNamespace: unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
}

// cloneFlags creates the plan's namespaces that have no path.
func cloneFlags(plan container.Plan) uintptr {
	var f uintptr
	for _, ns := range plan.Namespaces {
		if ns.Path == "" {
			f |= nsFlags[ns.Type]
		}
	}
	return f
}

// startAndWait starts cmd on a thread switched into the namespaces the
// plan joins (the child is born in them) and waits for it on that same
// thread, which its parent-death signal is tied to. The thread never
// returns to the pool.
func startAndWait(plan container.Plan, cmd *exec.Cmd, started, waited chan<- error) {
	runtime.LockOSThread()
	for _, ns := range plan.Namespaces {
		if ns.Path == "" {
			continue
		}
		if err := setns(ns.Path, int(nsFlags[ns.Type])); err != nil {
			started <- err
			return
		}
	}
	if err := cmd.Start(); err != nil {
		started <- err
		return
	}
	started <- nil
	waited <- cmd.Wait()
}

// setns switches the calling thread into the namespace at path.
func setns(path string, kind int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer unix.Close(fd)
	if err := unix.Setns(fd, kind); err != nil {
		return fmt.Errorf("enter %s: %w", path, err)
	}
	return nil
}

// forwardSignals passes termination signals on to the workload and
// closes its stdin on closeStdinSignal.
func forwardSignals(p *os.Process, sigs <-chan os.Signal, closeStdin func()) {
	go func() {
		for s := range sigs {
			if s == closeStdinSignal {
				closeStdin()
				continue
			}
			_ = p.Signal(s)
		}
	}()
}

// stdio connects the workload's stdin and output.
type stdio struct {
	spec   InitSpec
	master *os.File // terminal master, with TTY
	slave  *os.File
	stdinW io.WriteCloser
	fifo   *os.File
	copied chan struct{}
}

func newStdio(spec InitSpec, cmd *exec.Cmd) (*stdio, error) {
	s := &stdio{spec: spec, copied: make(chan struct{})}
	if spec.TTY {
		m, sl, err := openPTY()
		if err != nil {
			return nil, err
		}
		s.master, s.slave = m, sl
		cmd.Stdin, cmd.Stdout, cmd.Stderr = sl, sl, sl
		cmd.SysProcAttr.Setsid, cmd.SysProcAttr.Setctty = true, true
	} else {
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	}
	if spec.StdinFIFO == "" {
		return s, nil
	}
	f, err := os.OpenFile(spec.StdinFIFO, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open stdin: %w", err)
	}
	s.fifo = f
	if !spec.TTY {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		cmd.Stdin, s.stdinW = r, w
	}
	return s, nil
}

// run starts copying once the workload runs.
func (s *stdio) run(p *os.Process, sigs <-chan os.Signal) {
	closeStdin := func() {}
	switch {
	case s.master != nil:
		s.slave.Close()
		go func() { _, _ = io.Copy(os.Stdout, s.master); close(s.copied) }()
		if s.fifo != nil {
			go func() { _, _ = io.Copy(s.master, s.fifo) }()
			closeStdin = func() { _, _ = s.master.Write([]byte{4}) }
		}
	case s.fifo != nil:
		go func() { _, _ = io.Copy(s.stdinW, s.fifo) }()
		closeStdin = func() { s.stdinW.Close() }
	}
	forwardSignals(p, sigs, closeStdin)
}

// drain waits a moment for the terminal's last output.
func (s *stdio) drain() {
	if s.master == nil {
		return
	}
	select {
	case <-s.copied:
	case <-time.After(time.Second):
	}
}
