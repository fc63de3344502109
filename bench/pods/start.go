package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/agent/container"
	"github.com/svcplane/svcplane/internal/agent/runtime/process"
)

const startTimeout = 10 * time.Second

// buildPlan makes and writes the plan of one instance of the pod's
// container, as the runtime does, in dir.
func (n *node) buildPlan(i int, dir string, cg cgroups.Container, img image) (string, container.Plan, error) {
	pod := benchPod(i)
	files := map[string]string{"/dev/termination-log": filepath.Join(dir, "termination-log")}
	for k, v := range n.files {
		files[k] = v
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", container.Plan{}, err
	}
	if err := os.WriteFile(files["/dev/termination-log"], nil, 0o666); err != nil {
		return "", container.Plan{}, err
	}
	plan, err := container.Build(container.Input{
		Pod: pod, Container: &pod.Spec.Containers[0], Layers: img.layers, Instance: dir,
		Args: []string{"sleep", "3600"}, Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=bench"},
		Cwd: "/", Hostname: "bench", Files: files, Self: img.self,
		NetnsPath: n.netnsPath, IPCPath: n.ipcPath, CgroupProcs: cg.Procs(),
	})
	if err != nil {
		return "", plan, err
	}
	path := filepath.Join(dir, "plan.json")
	return path, plan, container.WritePlan(path, plan)
}

// started is a process started on a thread of its own, which waits for
// it (the thread its parent-death signal is tied to).
type started struct {
	cmd    *exec.Cmd
	waited chan error
}

// startOn starts cmd on a locked thread moved into the namespaces at
// paths (nil for the node's own) and returns once Start returned, with
// the time from before the setns calls.
func startOn(cmd *exec.Cmd, paths map[string]int) (*started, time.Time, error) {
	s := &started{cmd: cmd, waited: make(chan error, 1)}
	type result struct {
		t0  time.Time
		err error
	}
	res := make(chan result, 1)
	go func() {
		goruntime.LockOSThread() // never unlocked: the thread ends with the goroutine
		t0 := time.Now()
		for path, kind := range paths {
			if err := setns(path, kind); err != nil {
				res <- result{t0, err}
				return
			}
		}
		if err := cmd.Start(); err != nil {
			res <- result{t0, err}
			return
		}
		res <- result{t0, nil}
		s.waited <- cmd.Wait()
	}()
	r := <-res
	return s, r.t0, r.err
}

// stop kills the process and waits for it.
func (s *started) stop() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	select {
	case <-s.waited:
	case <-time.After(startTimeout):
	}
}

func setns(path string, kind int) error {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return unix.Setns(fd, kind)
}

// waitEOF reads r until its writers are gone (the exec of the workload
// closes it) and returns what was written, giving up after the timeout.
func waitEOF(r *os.File) (string, error) {
	defer r.Close()
	_ = r.SetReadDeadline(time.Now().Add(startTimeout))
	b, err := io.ReadAll(r)
	return string(b), err
}

// startShim runs `svcplane internal-init` for the plan, as the agent's
// launcher does, and returns once the shim said the workload runs: the
// whole container start of a pod.
func (n *node) startShim(planPath, dir string) (*started, time.Duration, error) {
	spec := process.InitSpec{Plan: planPath, ExitFile: filepath.Join(dir, "exit.json"), PIDFile: filepath.Join(dir, "container.pid")}
	data, err := json.Marshal(spec)
	if err != nil {
		return nil, 0, err
	}
	specPath := filepath.Join(dir, "init.json")
	if err := os.WriteFile(specPath, data, 0o644); err != nil {
		return nil, 0, err
	}
	log, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		return nil, 0, err
	}
	defer log.Close()
	ready, readyW, err := os.Pipe()
	if err != nil {
		return nil, 0, err
	}
	cmd := exec.Command(n.initBin, "internal-init", specPath)
	cmd.Stdout, cmd.Stderr, cmd.ExtraFiles = log, log, []*os.File{readyW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	s, t0, err := startOn(cmd, nil)
	readyW.Close()
	if err != nil {
		ready.Close()
		return nil, 0, err
	}
	if _, err := waitEOF(ready); err != nil {
		s.stop()
		return nil, 0, fmt.Errorf("shim: %w", err)
	}
	d := time.Since(t0)
	if b, _ := os.ReadFile(filepath.Join(dir, "exit.json")); len(b) > 0 {
		s.stop()
		return nil, 0, fmt.Errorf("shim: the container did not start: %s", b)
	}
	return s, d, nil
}

// startTimed runs `svcplane internal-container PLAN` directly, in the
// namespaces the shim would give it, with step timings on, and returns
// the steps and the time from launch to the workload's exec.
func (n *node) startTimed(planPath, dir string, plan container.Plan) (*started, map[string]time.Duration, time.Duration, error) {
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, nil, 0, err
	}
	out, err := os.Create(filepath.Join(dir, "steps"))
	if err != nil {
		return nil, nil, 0, err
	}
	defer out.Close()
	cmd := exec.Command(n.initBin, "internal-container", planPath)
	cmd.Env = append(append([]string(nil), plan.Process.Env...), container.TimingsEnv+"=1")
	cmd.Stderr, cmd.ExtraFiles = out, []*os.File{errW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL}
	s, t0, err := startOn(cmd, map[string]int{n.netnsPath: unix.CLONE_NEWNET, n.ipcPath: unix.CLONE_NEWIPC})
	errW.Close()
	if err != nil {
		errR.Close()
		return nil, nil, 0, err
	}
	msg, err := waitEOF(errR)
	d := time.Since(t0)
	if err == nil && msg != "" {
		err = errors.New(msg)
	}
	if err != nil {
		s.stop()
		return nil, nil, 0, fmt.Errorf("internal-container: %w", err)
	}
	steps, err := readSteps(out.Name())
	return s, steps, d, err
}

// readSteps parses the "step NAME NANOSECONDS" lines.
func readSteps(path string) (map[string]time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	steps := map[string]time.Duration{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "step ")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(rest, ' ')
		ns, err := strconv.ParseInt(rest[i+1:], 10, 64)
		if i < 0 || err != nil {
			return nil, fmt.Errorf("bad step line %q", sc.Text())
		}
		steps[rest[:i]] += time.Duration(ns)
	}
	if len(steps) == 0 {
		return nil, errors.New("internal-container printed no step timings")
	}
	return steps, sc.Err()
}

// startPlain fork/execs the same program without isolation, in the pod's
// network namespace: the peer of a container start.
func (n *node) startPlain() (*started, time.Duration, error) {
	cmd := exec.Command(n.busybox, "sleep", "3600")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	s, t0, err := startOn(cmd, map[string]int{n.netnsPath: unix.CLONE_NEWNET})
	return s, time.Since(t0), err
}
