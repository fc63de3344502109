package process

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/agent/container"
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
	in, err := r.startInstance(p, spec)
	if err != nil {
		return err
	}
	r.mu.Lock()
	p.containers[spec.Name] = in
	r.mu.Unlock()
	go r.watch(spec.Pod.UID, in)
	r.prune(spec.Pod.UID, spec.Name)
	return nil
}

// startInstance launches one instance of a container (or of the pod's
// pause process).
func (r *Runtime) startInstance(p *podEntry, spec runtime.ContainerSpec) (*instance, error) {
	dir := r.files.instanceDir(spec.Pod.UID, spec.Name, spec.Attempt)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	initSpec, cg, err := r.initSpec(p, spec, dir)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	proc, err := r.launch(initSpec, dir, spec.ImageID)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name, err)
	}
	return &instance{dir: dir, proc: proc, spec: spec, cgroup: cg, exited: make(chan struct{}),
		state: runtime.ContainerState{Name: spec.Name, Attempt: spec.Attempt, ImageID: spec.ImageID, Running: true, StartedAt: proc.StartedAt}}, nil
}

func (r *Runtime) launch(spec InitSpec, dir, imageID string) (procRecord, error) {
	specPath := filepath.Join(dir, "init.json")
	if err := writeJSON(specPath, spec); err != nil {
		return procRecord{}, err
	}
	argv := append(append([]string(nil), r.cfg.InitArgv...), specPath)
	proc, err := r.cfg.Launcher.Launch(Launch{Argv: argv, LogPath: filepath.Join(dir, "log")})
	if err != nil {
		return procRecord{}, err
	}
	proc.ImageID = imageID
	return proc, writeJSON(filepath.Join(dir, "proc.json"), proc)
}

// initSpec writes the pod's /etc files, the stdin FIFO and the
// container's plan, and says what the shim must do.
func (r *Runtime) initSpec(p *podEntry, spec runtime.ContainerSpec, dir string) (InitSpec, *cgroups.Container, error) {
	rec := p.rec
	s := InitSpec{Plan: filepath.Join(dir, "plan.json"), ExitFile: filepath.Join(dir, "exit.json"),
		PIDFile: filepath.Join(dir, "container.pid"), TTY: spec.TTY}
	files, err := r.podFiles(rec, spec, dir)
	if err != nil {
		return s, nil, err
	}
	c := findContainer(spec.Pod, spec.Name)
	if c == nil {
		return s, nil, fmt.Errorf("pod has no container %q", spec.Name)
	}
	cg, adj, err := r.containerCgroup(spec.Pod, c, spec.Attempt)
	if err != nil {
		return s, nil, err
	}
	in := container.Input{
		Pod: spec.Pod, Container: c, Layers: spec.Layers, ImageUser: spec.ImageUser, Instance: dir,
		Args: spec.Argv, Env: spec.Env, Cwd: spec.Dir, Hostname: spec.Hostname, Files: files, Self: spec.Self,
		NetnsPath: rec.NetnsPath, IPCPath: rec.IPCPath, OOMScoreAdj: adj, SeccompDir: r.cfg.SeccompDir,
	}
	if sc := c.SecurityContext; sc != nil && sc.Privileged != nil && *sc.Privileged {
		if in.HostDevices, err = container.HostDevices("/dev"); err != nil {
			return s, nil, fmt.Errorf("the node's devices: %w", err)
		}
	}
	for _, m := range spec.Mounts {
		in.Volumes = append(in.Volumes, container.BindMount(m.Source, m.Destination, m.ReadOnly))
	}
	if cg != nil {
		in.CgroupProcs = cg.Procs()
	}
	if p.pause != nil && spec.Name != pauseName {
		pid, err := readPID(filepath.Join(p.pause.dir, "container.pid"))
		if err != nil {
			return s, nil, fmt.Errorf("the pod's pause process: %w", err)
		}
		in.PIDPath = fmt.Sprintf("/proc/%d/ns/pid", pid)
	}
	plan, err := container.Build(in)
	if err != nil {
		return s, nil, err
	}
	if err := container.WritePlan(s.Plan, plan); err != nil {
		return s, nil, err
	}
	if spec.Stdin {
		s.StdinFIFO = filepath.Join(dir, "stdin")
		if err := unix.Mkfifo(s.StdinFIFO, 0o600); err != nil && err != unix.EEXIST {
			return s, nil, fmt.Errorf("stdin fifo: %w", err)
		}
	}
	return s, cg, nil
}

// podFiles writes the files bound into the container: /etc/hosts,
// /etc/resolv.conf and /etc/hostname of the pod, and the container's
// termination message file.
func (r *Runtime) podFiles(rec podRecord, spec runtime.ContainerSpec, dir string) (map[string]string, error) {
	files := map[string]string{}
	podDir := r.files.podDir(rec.UID)
	for _, f := range []struct{ content, name, target string }{
		{spec.Hosts, "hosts", "/etc/hosts"},
		{spec.ResolvConf, "resolv.conf", "/etc/resolv.conf"},
		{spec.Hostname + "\n", "hostname", "/etc/hostname"},
	} {
		if f.content == "" || f.content == "\n" {
			continue
		}
		src := filepath.Join(podDir, f.name)
		if err := os.WriteFile(src, []byte(f.content), 0o644); err != nil {
			return nil, err
		}
		files[f.target] = src
	}
	if c := findContainer(spec.Pod, spec.Name); c != nil {
		target := c.TerminationMessagePath
		if target == "" {
			target = corev1.TerminationMessagePathDefault
		}
		src := filepath.Join(dir, "termination-log")
		if err := os.WriteFile(src, nil, 0o666); err != nil {
			return nil, err
		}
		files[target] = src
	}
	return files, nil
}

// findContainer returns the pod's container (or init container) name.
func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name {
				return &list[i]
			}
		}
	}
	return nil
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
	if r.oomKilled(in) && rec.ExitCode != 0 {
		rec.Reason = "OOMKilled"
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
	return r.stopInstance(ctx, r.running(uid, name), name, grace)
}

func (r *Runtime) stopInstance(ctx context.Context, in *instance, name string, grace time.Duration) error {
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
