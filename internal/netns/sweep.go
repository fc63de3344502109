package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Sweep removes every namespace of ns whose name starts with prefix,
// after killing (SIGKILL) each process still inside one of them. It is
// `svcplane down`: it needs nothing but the names.
func Sweep(ns Namespaces, prefix string) ([]string, error) {
	names, err := ns.List(prefix)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, name := range names {
		if err := killIn(ns.Path(name)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range names {
		if err := ns.Delete(name); err != nil {
			errs = append(errs, err)
		}
	}
	return names, errors.Join(errs...)
}

// killIn kills the processes in the namespace mounted at path and waits
// (up to 5s) until none is left.
func killIn(path string) error {
	ino, err := inode(path)
	if err != nil || !isNetns(path) {
		return nil // not mounted here: nothing to find by it
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		pids := ProcessesIn(ino)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in %s did not die", pids, path)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Inode returns the inode of the namespace at path, which identifies it.
func Inode(path string) (uint64, error) { return inode(path) }

func inode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// ProcessesIn returns the processes (other than this one) whose network
// namespace has inode ino.
func ProcessesIn(ino uint64) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if got, err := inode(filepath.Join("/proc", e.Name(), "ns", "net")); err == nil && got == ino {
			pids = append(pids, pid)
		}
	}
	return pids
}

// IsMounted says whether path is a network namespace mounted in this
// process's mount namespace (not a file left without its mount).
func IsMounted(path string) bool { return isNetns(path) }
