package process

import (
	"fmt"
	"os/exec"
	"runtime"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/agent/container"
)

// joined is a command started on a thread switched into a container's
// namespaces (but its mount namespace, which the command enters itself:
// `svcplane internal-container --join`), so that it is born in them, and
// waited for on that thread. The thread never returns to the pool.
type joined struct {
	cmd  *exec.Cmd
	pid  int
	plan container.Plan
	// byPath joins the plan's namespaces that have a path by it.
	byPath bool
	waited chan error
}

// Start starts the command.
func (j *joined) Start() error {
	started := make(chan error, 1)
	j.waited = make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := joinNamespaces(j.pid, j.plan, j.byPath); err != nil {
			started <- err
			return
		}
		if err := j.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		j.waited <- j.cmd.Wait()
	}()
	return <-started
}

// Wait waits for the command to exit.
func (j *joined) Wait() error { return <-j.waited }

// joinNamespaces switches the calling (locked) thread into the
// namespaces of process pid that the plan gives the container, but the
// mount namespace: all are opened before the first switch. With byPath a
// namespace that has a path in the plan is joined by it.
func joinNamespaces(pid int, plan container.Plan, byPath bool) error {
	names := map[specs.LinuxNamespaceType]string{
		specs.IPCNamespace: "ipc", specs.UTSNamespace: "uts", specs.NetworkNamespace: "net", specs.PIDNamespace: "pid",
	}
	type target struct {
		fd   int
		kind int
	}
	var targets []target
	defer func() {
		for _, t := range targets {
			unix.Close(t.fd)
		}
	}()
	for _, ns := range plan.Namespaces {
		name, ok := names[ns.Type]
		if !ok {
			continue
		}
		path := fmt.Sprintf("/proc/%d/ns/%s", pid, name)
		if byPath && ns.Path != "" {
			path = ns.Path
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		targets = append(targets, target{fd, int(nsFlags[ns.Type])})
	}
	for _, t := range targets {
		if err := unix.Setns(t.fd, t.kind); err != nil {
			return fmt.Errorf("enter a namespace of the container: %w", err)
		}
	}
	return nil
}
