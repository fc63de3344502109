package container

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// ReadPlan reads a plan written by WritePlan.
func ReadPlan(path string) (Plan, error) {
	var p Plan
	data, err := os.ReadFile(path)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return p, fmt.Errorf("read %s: %w", path, err)
	}
	return p, nil
}

// WritePlan writes the plan where `svcplane internal-container` reads it.
func WritePlan(path string, p Plan) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o600)
}

// ErrorFD is the descriptor on which the container's first process
// reports why it could not start; it closes on a successful exec.
const ErrorFD = 3

// RunInit is `svcplane internal-container PLAN`: the container's first
// process, started in its new namespaces (and those of the pod joined).
// It builds the root, takes the workload's identity and executes the
// workload; it returns only on failure, having told ErrorFD why.
func RunInit(planPath string) int {
	syscall.CloseOnExec(ErrorFD)
	runtime.LockOSThread()
	var st *steps
	if os.Getenv(TimingsEnv) != "" {
		st = newSteps(os.Stderr)
	}
	err := initContainer(planPath, st)
	report := os.NewFile(ErrorFD, "errors")
	if report != nil {
		fmt.Fprint(report, err.Error())
		report.Close()
	}
	return 128
}

func initContainer(planPath string, st *steps) error {
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
	p, err := ReadPlan(planPath)
	if err != nil {
		return err
	}
	st.mark("read plan")
	if err := enterCgroups(p.CgroupProcs); err != nil {
		return err
	}
	setOOMScoreAdj(p.Process.OOMScoreAdj)
	st.mark("enter cgroups")
	if err := setupRootfs(&p, st); err != nil {
		return err
	}
	if err := chdir(p.Process.Cwd); err != nil {
		return err
	}
	if err := becomeWorkload(p); err != nil {
		return err
	}
	st.mark("identity")
	return execute(p.Process)
}

// becomeWorkload takes the workload's identity and system call filter.
// Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: it is loaded
// before the capabilities are dropped (the filter allows what the switch
// calls), else last, as runc does.
func becomeWorkload(p Plan) error {
	if !p.Process.NoNewPrivileges {
		if err := loadSeccomp(p.Seccomp); err != nil {
			return err
		}
	}
	if err := setIdentity(p.Process); err != nil {
		return err
	}
	if p.Process.NoNewPrivileges {
		return loadSeccomp(p.Seccomp)
	}
	return nil
}

// MountFD is the descriptor of the container's mount namespace handed to
// RunJoin.
const MountFD = 3

// RunJoin is `svcplane internal-container --join PLAN -- CMD...`, the
// second step of an exec: its parent has joined the container's other
// namespaces (this process is born in its PID namespace); it enters the
// mount namespace at MountFD and runs cmd as the container's user with
// the container's capabilities. It returns the exit code on failure.
func RunJoin(planPath string, argv []string) int {
	runtime.LockOSThread()
	code, err := join(planPath, argv)
	fmt.Fprintln(os.Stderr, "exec:", err)
	return code
}

func join(planPath string, argv []string) (int, error) {
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
	p, err := ReadPlan(planPath)
	if err != nil {
		return 126, err
	}
	if err := enterCgroups(p.CgroupProcs); err != nil {
		return 126, err
	}
	setOOMScoreAdj(p.Process.OOMScoreAdj)
	// Joining a mount namespace needs a thread that shares no
	// filesystem state with the others.
	if err := unix.Unshare(unix.CLONE_FS); err != nil {
		return 126, fmt.Errorf("unshare fs: %w", err)
	}
	if err := unix.Setns(MountFD, unix.CLONE_NEWNS); err != nil {
		return 126, fmt.Errorf("enter the mount namespace: %w", err)
	}
	unix.Close(MountFD)
	_ = os.Chdir(p.Process.Cwd)
	if err := becomeWorkload(p); err != nil {
		return 126, err
	}
	p.Process.Args, p.Process.Env = argv, os.Environ()
	err = execute(p.Process)
	if errors.Is(err, errNotFound) {
		return 127, err
	}
	return 126, err
}
