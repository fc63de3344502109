package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// keepAttempts is how many instances of a container keep their files:
// the running one and the previous (kubectl logs --previous).
const keepAttempts = 2

// Start launches one container instance through internal-init.
func (r *Runtime) Start(_ context.Context, spec runtime.ContainerSpec) error {
	r.mu.Lock()
	p, ok := r.pods[spec.Pod.UID]
	r.mu.Unlock()
	if !ok {
		return fmt.Errorf("start %s: pod has no sandbox", spec.Name)
	}
	dir := r.files.instanceDir(spec.Pod.UID, spec.Name, spec.Attempt)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}
	initSpec, err := r.initSpec(p.rec, spec, dir)
	if err != nil {
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}
	proc, err := r.launch(initSpec, dir)
	if err != nil {
		return fmt.Errorf("start %s: %w", spec.Name, err)
	}
	in := &instance{dir: dir, proc: proc, spec: spec, exited: make(chan struct{}),
		state: runtime.ContainerState{Name: spec.Name, Attempt: spec.Attempt, Running: true, StartedAt: proc.StartedAt}}
	r.mu.Lock()
	p.containers[spec.Name] = in
	r.mu.Unlock()
	go r.watch(spec.Pod.UID, in)
	r.prune(spec.Pod.UID, spec.Name)
	return nil
}

func (r *Runtime) launch(spec InitSpec, dir string) (procRecord, error) {
	specPath := filepath.Join(dir, "init.json")
	if err := writeJSON(specPath, spec); err != nil {
		return procRecord{}, err
	}
	argv := append(append([]string(nil), r.cfg.InitArgv...), specPath)
	proc, err := r.cfg.Launcher.Launch(Launch{Argv: argv, LogPath: filepath.Join(dir, "log"), Isolate: true})
	if err != nil {
		return procRecord{}, err
	}
	return proc, writeJSON(filepath.Join(dir, "proc.json"), proc)
}

// initSpec writes the pod's /etc files and the stdin FIFO, and says what
// the init must do.
func (r *Runtime) initSpec(rec podRecord, spec runtime.ContainerSpec, dir string) (InitSpec, error) {
	s := InitSpec{
		NetnsPath: rec.NetnsPath, Argv: spec.Argv, Env: spec.Env, Dir: spec.Dir,
		ExitFile: filepath.Join(dir, "exit.json"), TTY: spec.TTY,
	}
	if !rec.HostNetwork {
		s.Hostname = spec.Hostname
	}
	podDir := r.files.podDir(rec.UID)
	for _, f := range []struct{ content, name, target string }{
		{spec.Hosts, "hosts", "/etc/hosts"},
		{spec.ResolvConf, "resolv.conf", "/etc/resolv.conf"},
	} {
		if f.content == "" {
			continue
		}
		src := filepath.Join(podDir, f.name)
		if err := os.WriteFile(src, []byte(f.content), 0o644); err != nil {
			return s, err
		}
		s.Mounts = append(s.Mounts, Bind{Source: src, Target: f.target})
	}
	if spec.Stdin {
		s.StdinFIFO = filepath.Join(dir, "stdin")
		if err := unix.Mkfifo(s.StdinFIFO, 0o600); err != nil && err != unix.EEXIST {
			return s, fmt.Errorf("stdin fifo: %w", err)
		}
	}
	return s, nil
}

// watch polls a running instance until it exits.
func (r *Runtime) watch(uid types.UID, in *instance) {
	t := time.NewTicker(r.cfg.PollInterval)
	defer t.Stop()
	for range t.C {
		if !r.cfg.Launcher.Alive(in.proc) {
			r.finish(in)
			r.notify(uid)
			return
		}
	}
}

// finish records how an instance ended, from the exit file its init
// wrote; an init that was killed wrote none (137, as for SIGKILL).
func (r *Runtime) finish(in *instance) {
	var rec ExitRecord
	ok, _ := readJSON(filepath.Join(in.dir, "exit.json"), &rec)
	if !ok {
		rec = ExitRecord{ExitCode: 137, Reason: "Error", FinishedAt: time.Now()}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	select {
	case <-in.exited:
		return
	default:
	}
	in.state.Running = false
	in.state.ExitCode, in.state.Reason, in.state.Message, in.state.FinishedAt = rec.ExitCode, rec.Reason, rec.Message, rec.FinishedAt
	close(in.exited)
}

// Stop sends SIGTERM to the container's init (which passes it on), and
// SIGKILL to its process group once grace has passed.
func (r *Runtime) Stop(ctx context.Context, uid types.UID, name string, grace time.Duration) error {
	in := r.running(uid, name)
	if in == nil {
		return nil
	}
	if grace > 0 {
		if err := r.cfg.Launcher.Signal(in.proc, syscall.SIGTERM, false); err != nil {
			return err
		}
		if waitExit(ctx, in, grace) {
			return nil
		}
	}
	if err := r.cfg.Launcher.Signal(in.proc, syscall.SIGKILL, true); err != nil {
		return err
	}
	if !waitExit(ctx, in, 10*time.Second) {
		return fmt.Errorf("stop %s: still running after SIGKILL", name)
	}
	return nil
}

func waitExit(ctx context.Context, in *instance, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-in.exited:
		return true
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

func (r *Runtime) running(uid types.UID, name string) *instance {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.pods[uid]
	if !ok {
		return nil
	}
	in := p.containers[name]
	if in == nil || !in.state.Running {
		return nil
	}
	return in
}

// prune removes the files of instances older than the kept ones.
func (r *Runtime) prune(uid types.UID, name string) {
	attempts := r.files.attempts(uid, name)
	for len(attempts) > keepAttempts {
		_ = os.RemoveAll(r.files.instanceDir(uid, name, attempts[0]))
		attempts = attempts[1:]
	}
}
