package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/container"
	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// readPID reads the container process's pid its shim wrote.
func readPID(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("the container process is not known: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// ErrNotRunning is returned for exec and attach into a container that is
// not running.
var ErrNotRunning = errors.New("container is not running")

// LogPath returns the log of the latest (or the previous) instance.
func (r *Runtime) LogPath(uid types.UID, name string, previous bool) (string, error) {
	attempts := r.files.attempts(uid, name)
	i := len(attempts) - 1
	if previous {
		i--
	}
	if i < 0 {
		if previous {
			return "", fmt.Errorf("previous terminated container %q not found", name)
		}
		return "", fmt.Errorf("container %q has no log", name)
	}
	return filepath.Join(r.files.instanceDir(uid, name, attempts[i]), "log"), nil
}

// Exited returns the exit channel of the container's latest instance.
func (r *Runtime) Exited(uid types.UID, name string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pods[uid]; ok {
		if in, ok := p.containers[name]; ok {
			return in.exited
		}
	}
	c := make(chan struct{})
	close(c)
	return c
}

// Exec runs a command in the namespaces of a running container, with the
// container's environment: the agent joins the container's namespaces on
// a thread of its own and starts `internal-container --join` there.
func (r *Runtime) Exec(ctx context.Context, req runtime.ExecRequest) (int, error) {
	in := r.running(req.UID, req.Container)
	if in == nil {
		return -1, fmt.Errorf("exec in %s: %w", req.Container, ErrNotRunning)
	}
	target, err := execTargetOf(in)
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", req.Container, err)
	}
	mnt, err := os.Open(fmt.Sprintf("/proc/%d/ns/mnt", target.pid))
	if err != nil {
		return -1, fmt.Errorf("exec in %s: %w", req.Container, err)
	}
	defer mnt.Close()
	argv := append(append([]string(nil), r.cfg.ContainerArgv...), "--join", target.planPath, "--")
	cmd := exec.Command(argv[0], append(argv[1:], req.Command...)...)
	cmd.Env, cmd.ExtraFiles = target.plan.Process.Env, []*os.File{mnt}
	j := &joined{cmd: cmd, pid: target.pid, plan: target.plan, byPath: target.byPath}
	if req.TTY {
		return runWithTTY(ctx, j, req)
	}
	return runPiped(ctx, j, req)
}

// execTarget is what an exec follows: the plan (and its file) and the
// process whose namespaces it joins; byPath joins the plan's namespaces
// that have a path by that path.
type execTarget struct {
	planPath string
	plan     container.Plan
	pid      int
	byPath   bool
}

// execTargetOf reads an instance's plan and its container process.
func execTargetOf(in *instance) (execTarget, error) {
	var spec InitSpec
	if _, err := readJSON(filepath.Join(in.dir, "init.json"), &spec); err != nil {
		return execTarget{}, err
	}
	if spec.Plan == "" {
		return legacyTarget(in)
	}
	plan, err := container.ReadPlan(spec.Plan)
	if err != nil {
		return execTarget{}, err
	}
	pid, err := readPID(spec.PIDFile)
	if err != nil {
		return execTarget{}, err
	}
	return execTarget{planPath: spec.Plan, plan: plan, pid: pid}, nil
}

// legacyInitSpec is what init.json held before plans: the fields an exec
// needs.
type legacyInitSpec struct {
	NetnsPath string   `json:"netnsPath,omitempty"`
	Env       []string `json:"env"`
	Dir       string   `json:"dir,omitempty"`
}

// legacyTarget is the exec into a container an older svcplane started,
// still running after an upgrade: it joins its init's mount and UTS
// namespaces and the pod's network namespace, as the old exec did.
func legacyTarget(in *instance) (execTarget, error) {
	var old legacyInitSpec
	if _, err := readJSON(filepath.Join(in.dir, "init.json"), &old); err != nil {
		return execTarget{}, err
	}
	plan := container.LegacyExec(old.NetnsPath, old.Dir, old.Env)
	path := filepath.Join(in.dir, "exec-plan.json")
	if err := container.WritePlan(path, plan); err != nil {
		return execTarget{}, err
	}
	return execTarget{planPath: path, plan: plan, pid: in.proc.PID, byPath: true}, nil
}

func runPiped(ctx context.Context, j *joined, req runtime.ExecRequest) (int, error) {
	cmd := j.cmd
	cmd.Stdout, cmd.Stderr = orDiscard(req.Stdout), orDiscard(req.Stderr)
	var stdinW *os.File
	if req.Stdin != nil {
		r, w, err := os.Pipe()
		if err != nil {
			return -1, err
		}
		defer r.Close()
		cmd.Stdin, stdinW = r, w
	}
	if err := j.Start(); err != nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	if stdinW != nil {
		go func() { _, _ = io.Copy(stdinW, req.Stdin); stdinW.Close() }()
	}
	return waitCmd(ctx, j)
}

func runWithTTY(ctx context.Context, j *joined, req runtime.ExecRequest) (int, error) {
	cmd := j.cmd
	master, slave, err := openPTY()
	if err != nil {
		return -1, err
	}
	defer master.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	err = j.Start()
	slave.Close()
	if err != nil {
		return -1, fmt.Errorf("exec: %w", err)
	}
	go resizeLoop(master, req.Resize)
	if req.Stdin != nil {
		go func() { _, _ = io.Copy(master, req.Stdin) }()
	}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(orDiscard(req.Stdout), master); close(copied) }()
	code, err := waitCmd(ctx, j)
	<-copied
	return code, err
}

func resizeLoop(f *os.File, sizes <-chan runtime.TermSize) {
	for s := range sizes {
		_ = setSize(f, s.Width, s.Height)
	}
}

// waitCmd waits for cmd, killing it when ctx ends, and returns its exit
// code.
func waitCmd(ctx context.Context, j *joined) (int, error) {
	cmd := j.cmd
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-done:
		}
	}()
	err := j.Wait()
	close(done)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return -1, err
	}
	return exitStatusCode(cmd.ProcessState), nil
}

// exitStatusCode is a process's exit code as runc reports it: the code it
// exited with, or 128 + the signal that killed it (139 for SIGSEGV).
// ProcessState.ExitCode alone says -1 for a signal death.
func exitStatusCode(ps *os.ProcessState) int {
	if st, ok := ps.Sys().(syscall.WaitStatus); ok && st.Signaled() {
		return 128 + int(st.Signal())
	}
	return ps.ExitCode()
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Attach follows a running container's output from now on and feeds its
// stdin, until the container exits or ctx ends.
func (r *Runtime) Attach(ctx context.Context, req runtime.AttachRequest) error {
	in := r.running(req.UID, req.Container)
	if in == nil {
		return fmt.Errorf("attach to %s: %w", req.Container, ErrNotRunning)
	}
	if req.Stdin != nil {
		if in.spec.Name != "" && !in.spec.Stdin {
			return fmt.Errorf("attach to %s: stdin is not open (set stdin: true)", req.Container)
		}
		go r.feedStdin(in, req.Stdin)
	}
	logPath := filepath.Join(in.dir, "log")
	if req.Stdout == nil {
		select {
		case <-in.exited:
		case <-ctx.Done():
		}
		return nil
	}
	return runtime.FollowFile(ctx, logPath, runtime.Size(logPath), req.Stdout, in.exited)
}

// feedStdin copies to the container's stdin FIFO; at the end of a
// stdinOnce container's stdin it tells the init to close the workload's.
func (r *Runtime) feedStdin(in *instance, src io.Reader) {
	f, err := os.OpenFile(filepath.Join(in.dir, "stdin"), os.O_WRONLY, 0)
	if err != nil {
		r.cfg.Logger.Warn("attach: open stdin", "err", err)
		return
	}
	_, _ = io.Copy(f, src)
	f.Close()
	if in.spec.StdinOnce {
		_ = r.cfg.Launcher.Signal(in.proc, closeStdinSignal, false)
	}
}
