package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrBusy is returned (wrapped) when a cgroup to remove still holds
// processes.
var ErrBusy = errors.New("cgroup still has processes")

const (
	killTimeout = 5 * time.Second
	pollEvery   = 2 * time.Millisecond
)

// kill kills every process in cgroup rel and below it, and waits until
// they are gone. The freezer (v1) or cgroup.freeze (v2) stops them first,
// so that none forks out of the way; v2's cgroup.kill does it all at once
// where the kernel has it (5.14).
func (n *Node) kill(rel string) error {
	deadline := time.Now().Add(killTimeout)
	for {
		pids, err := n.treePids(rel)
		if err != nil || len(pids) == 0 {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: %s: processes %v left after SIGKILL: %w", rel, pids, ErrBusy)
		}
		if err := n.killOnce(rel, pids); err != nil {
			return err
		}
		time.Sleep(pollEvery)
	}
}

func (n *Node) killOnce(rel string, pids []int) error {
	if n.v2 {
		if err := n.fs.Write(filepath.Join(n.dir("memory", rel), "cgroup.kill"), "1"); err == nil {
			return nil
		}
	}
	thaw := n.freeze(rel)
	defer thaw()
	for _, pid := range pids {
		if pid == os.Getpid() {
			return fmt.Errorf("cgroups: %s holds the agent itself (pid %d): not killing it", rel, pid)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("cgroups: kill %d: %w", pid, err)
		}
	}
	return nil
}

// freeze freezes cgroup rel (best effort: the kill that follows works
// without it, only less surely against a fork bomb) and returns the thaw.
func (n *Node) freeze(rel string) (thaw func()) {
	file, frozen, thawed := filepath.Join(n.dir("freezer", rel), "freezer.state"), "FROZEN", "THAWED"
	if n.v2 {
		file, frozen, thawed = filepath.Join(n.dir("memory", rel), "cgroup.freeze"), "1", "0"
	}
	if err := n.fs.Write(file, frozen); err != nil {
		return func() {}
	}
	for range 100 {
		if b, err := n.fs.ReadFile(file); err != nil || string(b) == frozen+"\n" {
			break
		}
		time.Sleep(pollEvery / 2)
	}
	return func() { _ = n.fs.Write(file, thawed) }
}

// treePids lists the processes in rel and below it, in every hierarchy.
func (n *Node) treePids(rel string) ([]int, error) {
	seen := map[int]bool{}
	var out []int
	for _, top := range n.dirs(rel) {
		dirs, err := n.walk(top)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			pids, err := n.pids(d)
			if err != nil {
				return nil, err
			}
			for _, p := range pids {
				if !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	return out, nil
}

// walk lists dir and the cgroups below it, children before parents; none
// for a missing dir.
func (n *Node) walk(dir string) ([]string, error) {
	entries, err := n.fs.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		sub, err := n.walk(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, sub...)
	}
	return append(out, dir), nil
}

// removeTree removes cgroup rel and the cgroups below it in every
// hierarchy; a missing one is no error.
func (n *Node) removeTree(rel string) error {
	for _, top := range n.dirs(rel) {
		// Most often a container's empty cgroup: one rmdir, no listing.
		if err := n.fs.Rmdir(top); err == nil || errors.Is(err, os.ErrNotExist) {
			continue
		}
		dirs, err := n.walk(top)
		if err != nil {
			return err
		}
		for _, d := range dirs {
			if err := n.rmdir(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// rmdir removes one cgroup. EBUSY without processes listed means tasks
// that were killed have not quite left yet: it retries a little.
func (n *Node) rmdir(dir string) error {
	deadline := time.Now().Add(time.Second)
	for {
		err := n.fs.Rmdir(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if !errors.Is(err, syscall.EBUSY) {
			return fmt.Errorf("cgroups: remove %s: %w", dir, err)
		}
		if pids, _ := n.pids(dir); len(pids) > 0 {
			return fmt.Errorf("cgroups: remove %s: processes %v: %w", dir, pids, ErrBusy)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cgroups: remove %s: %w", dir, err)
		}
		time.Sleep(pollEvery)
	}
}
