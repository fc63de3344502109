package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// InitSpec is what `svcplane internal-init` sets up and runs: the first
// process of a container instance. The runtime starts it in new mount and
// UTS namespaces (for a pod that has its own network namespace); it binds
// the pod's /etc files, sets the hostname, starts the workload in the
// pod's network namespace, forwards signals to it and records its exit.
type InitSpec struct {
	NetnsPath string   `json:"netnsPath,omitempty"`
	Hostname  string   `json:"hostname,omitempty"`
	Mounts    []Bind   `json:"mounts,omitempty"`
	Argv      []string `json:"argv"`
	Env       []string `json:"env"`
	Dir       string   `json:"dir,omitempty"`
	ExitFile  string   `json:"exitFile"`
	StdinFIFO string   `json:"stdinFifo,omitempty"`
	TTY       bool     `json:"tty,omitempty"`
}

// Bind is a file bind-mounted over another.
type Bind struct {
	Source string `json:"source"`
	Target string `json:"target"`
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
	if err := setupNamespaces(spec); err != nil {
		return 128, ExitRecord{Reason: "StartError", Message: err.Error()}
	}
	cmd, stdio, err := buildCommand(spec)
	if err != nil {
		return 128, ExitRecord{Reason: "StartError", Message: err.Error()}
	}
	started := make(chan error, 1)
	waited := make(chan error, 1)
	go startAndWait(spec.NetnsPath, cmd, started, waited)
	if err := <-started; err != nil {
		return 128, ExitRecord{Reason: "StartError", Message: startMessage(spec.Argv, err)}
	}
	stdio.run(cmd.Process, sigs)
	signalReady()
	err = <-waited
	stdio.drain()
	return exitCode(cmd, err)
}

// signalReady closes the pipe the runtime waits on; every way out of
// runWorkload closes it too, when the process exits.
func signalReady() {
	if f := os.NewFile(readyFD, "ready"); f != nil {
		f.Close()
	}
}

func startMessage(argv []string, err error) string {
	return fmt.Sprintf("failed to start container process: exec: %q: %v", argv[0], errors.Unwrap(err))
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

// setupNamespaces binds the pod's files and sets its hostname, in the
// mount and UTS namespaces the runtime started this process in.
func setupNamespaces(spec InitSpec) error {
	if len(spec.Mounts) > 0 {
		// Slave: our binds stay here; the host's unmounts (of deleted
		// network namespaces) still reach us.
		if err := unix.Mount("", "/", "", unix.MS_SLAVE|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("make / a slave mount: %w", err)
		}
	}
	for _, b := range spec.Mounts {
		if err := unix.Mount(b.Source, b.Target, "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind %s on %s: %w", b.Source, b.Target, err)
		}
	}
	if spec.Hostname != "" {
		if err := unix.Sethostname([]byte(spec.Hostname)); err != nil {
			return fmt.Errorf("set hostname: %w", err)
		}
	}
	return nil
}

// buildCommand prepares the workload with its stdio.
func buildCommand(spec InitSpec) (*exec.Cmd, *stdio, error) {
	if len(spec.Argv) == 0 {
		return nil, nil, errors.New("no command")
	}
	path, err := lookPath(spec.Argv[0], spec.Env)
	if err != nil {
		return nil, nil, fmt.Errorf("failed to start container process: exec: %q: %w", spec.Argv[0], err)
	}
	cmd := &exec.Cmd{Path: path, Args: spec.Argv, Env: spec.Env, Dir: spec.Dir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s, err := newStdio(spec, cmd)
	if err != nil {
		return nil, nil, err
	}
	return cmd, s, nil
}

// lookPath finds name in the PATH of the workload's environment.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			return "", err
		}
		return name, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", errors.New("executable file not found in $PATH")
}

func executable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return errors.New("no such file or directory")
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return errors.New("permission denied")
	}
	return nil
}

// startAndWait starts cmd on a thread switched into the pod's network
// namespace (the workload inherits the thread's namespace) and waits for
// it on that same thread, which its parent-death signal is tied to. The
// thread never returns to the pool.
func startAndWait(netnsPath string, cmd *exec.Cmd, started, waited chan<- error) {
	runtime.LockOSThread()
	if netnsPath != "" {
		ns, err := vnetns.GetFromPath(netnsPath)
		if err != nil {
			started <- fmt.Errorf("open %s: %w", netnsPath, err)
			return
		}
		err = vnetns.Set(ns)
		ns.Close()
		if err != nil {
			started <- fmt.Errorf("enter %s: %w", netnsPath, err)
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
