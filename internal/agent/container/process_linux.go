package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/moby/sys/capability"
	"github.com/moby/sys/user"
	"golang.org/x/sys/unix"
)

// enterCgroups writes the process into its cgroups ("0" is the writer).
func enterCgroups(procs []string) error {
	for _, f := range procs {
		if err := os.WriteFile(f, []byte("0"), 0); err != nil {
			return fmt.Errorf("enter cgroup: %w", err)
		}
	}
	return nil
}

// setOOMScoreAdj sets the process's OOM score. Lowering it below zero
// needs CAP_SYS_RESOURCE; without it the score stays as it is.
func setOOMScoreAdj(adj *int) {
	if adj == nil {
		return
	}
	_ = os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(*adj)), 0)
}

// resolveUser finds the uid, gid and groups the workload runs with, in
// the container's /etc/passwd and /etc/group (the root is the container's
// by now), as containerd does.
func resolveUser(u User) (*user.ExecUser, error) {
	spec := u.Image
	if u.UID != nil {
		spec = strconv.FormatInt(*u.UID, 10)
	}
	if u.GID != nil {
		name, _, _ := strings.Cut(spec, ":")
		if name == "" {
			name = "0"
		}
		spec = name + ":" + strconv.FormatInt(*u.GID, 10)
	}
	eu, err := user.GetExecUserPath(spec, &user.ExecUser{Home: "/"}, "/etc/passwd", "/etc/group")
	if err != nil {
		return nil, fmt.Errorf("unable to find user %s: %w", spec, err)
	}
	for _, g := range u.Supplemental {
		eu.Sgids = append(eu.Sgids, int(g))
	}
	return eu, nil
}

// setIdentity switches the calling thread (and, for uid and gid, the
// process) to the workload's user and capabilities, as runc's init does:
// the bounding set first, then keep-caps across setuid, then the sets.
// The caller has locked its OS thread, from which it will execute.
func setIdentity(p Process) error {
	eu, err := resolveUser(p.User)
	if err != nil {
		return err
	}
	caps, err := capability.NewPid2(0)
	if err != nil {
		return err
	}
	if err := caps.Load(); err != nil {
		return err
	}
	want, err := capList(p)
	if err != nil {
		return err
	}
	caps.Clear(capability.BOUNDING)
	caps.Set(capability.BOUNDING, want...)
	if err := caps.Apply(capability.BOUNDING); err != nil {
		return fmt.Errorf("drop capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return err
	}
	if err := setIDs(eu); err != nil {
		return err
	}
	caps.Clear(capability.CAPS)
	caps.Set(capability.EFFECTIVE|capability.PERMITTED, want...)
	if err := caps.Apply(capability.CAPS); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("set no_new_privs: %w", err)
		}
	}
	// A change of credentials clears the parent-death signal.
	_ = unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0, 0, 0)
	return nil
}

func setIDs(eu *user.ExecUser) error {
	if err := syscall.Setgroups(eu.Sgids); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(eu.Gid); err != nil {
		return fmt.Errorf("setgid %d: %w", eu.Gid, err)
	}
	if err := syscall.Setuid(eu.Uid); err != nil {
		return fmt.Errorf("setuid %d: %w", eu.Uid, err)
	}
	return nil
}

// capList turns the plan's capability names into capability values.
func capList(p Process) ([]capability.Cap, error) {
	if p.Capabilities == nil {
		return nil, nil
	}
	byName := map[string]capability.Cap{}
	for _, c := range capability.ListKnown() {
		byName["CAP_"+strings.ToUpper(c.String())] = c
	}
	var out []capability.Cap
	for _, n := range p.Capabilities.Bounding {
		c, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("unknown capability %q", n)
		}
		out = append(out, c)
	}
	return out, nil
}

// chdir enters the working directory, creating it as runc does.
func chdir(dir string) error {
	if err := os.Chdir(dir); err == nil {
		return nil
	}
	_ = os.MkdirAll(dir, 0o755)
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("chdir to cwd (%q) set in config.json failed: %w", dir, errors.Unwrap(err))
	}
	return nil
}

// execute replaces the process with the workload, found in the PATH of
// its own environment.
func execute(p Process) error {
	if len(p.Args) == 0 {
		return errors.New("no command specified")
	}
	path, err := lookPath(p.Args[0], p.Env)
	if err != nil {
		return fmt.Errorf("exec: %q: %w", p.Args[0], err)
	}
	err = syscall.Exec(path, p.Args, p.Env)
	return fmt.Errorf("exec: %q: %w", p.Args[0], err)
}

// lookPath finds name in the PATH of env, in the container's root.
func lookPath(name string, env []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, executable(name)
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
	return "", errNotFound
}

// errNotFound is the error of a command not found in PATH.
var errNotFound = errors.New("executable file not found in $PATH")

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
