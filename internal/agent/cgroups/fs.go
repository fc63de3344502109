package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	occgroups "github.com/opencontainers/cgroups"
)

// fsys is the seam to cgroupfs: the real one, or a plain directory in the
// v2 tests (where writing a file creates it).
type fsys interface {
	Mkdir(dir string) error
	Rmdir(dir string) error
	// Write writes an existing control file in one write(2).
	Write(file, value string) error
	ReadFile(file string) ([]byte, error)
	ReadDir(dir string) ([]os.DirEntry, error)
	Stat(path string) (os.FileInfo, error)
}

type realFS struct{}

func (realFS) Mkdir(dir string) error { return os.Mkdir(dir, 0o755) }
func (realFS) Rmdir(dir string) error { return syscall.Rmdir(dir) }

func (realFS) Write(file, value string) error {
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (realFS) ReadFile(file string) ([]byte, error)      { return os.ReadFile(file) }
func (realFS) ReadDir(dir string) ([]os.DirEntry, error) { return os.ReadDir(dir) }
func (realFS) Stat(path string) (os.FileInfo, error)     { return os.Stat(path) }

// write is one control file to set: its controller, name and value.
type write struct{ controller, file, value string }

// writes returns the control files for s, in the order they must be
// written (memory before memsw; period before quota). Zero fields are
// left at the kernel's default (unlimited) of a new cgroup.
func writes(s Settings, v2 bool, swapFile string) []write {
	var w []write
	if s.MemoryLimit > 0 {
		mem := strconv.FormatInt(s.MemoryLimit, 10)
		if v2 {
			w = append(w, write{"memory", "memory.max", mem})
		} else {
			w = append(w, write{"memory", "memory.limit_in_bytes", mem})
		}
		w = appendSwap(w, swapFile, mem)
	}
	if s.CPUShares > 0 {
		if v2 {
			w = append(w, write{"cpu", "cpu.weight", strconv.FormatUint(cpuWeight(s.CPUShares), 10)})
		} else {
			w = append(w, write{"cpu", "cpu.shares", strconv.FormatUint(s.CPUShares, 10)})
		}
	}
	if s.CPUQuota > 0 {
		period := strconv.FormatInt(s.CPUPeriod, 10)
		if v2 {
			w = append(w, write{"cpu", "cpu.max", strconv.FormatInt(s.CPUQuota, 10) + " " + period})
		} else {
			w = append(w, write{"cpu", "cpu.cfs_period_us", period}, write{"cpu", "cpu.cfs_quota_us", strconv.FormatInt(s.CPUQuota, 10)})
		}
	}
	if s.PidsLimit > 0 {
		w = append(w, write{"pids", "pids.max", strconv.FormatInt(s.PidsLimit, 10)})
	}
	return w
}

// appendSwap forbids swap beyond the memory limit, as kubelet without swap
// support asks runc: memsw equal to the limit on v1, no swap on v2.
func appendSwap(w []write, swapFile, mem string) []write {
	switch swapFile {
	case "":
		return w
	case "memory.swap.max":
		return append(w, write{"memory", swapFile, "0"})
	}
	return append(w, write{"memory", swapFile, mem})
}

// apply writes s to cgroup rel.
func (n *Node) apply(rel string, s Settings) error {
	if s.CPUQuota > 0 && s.CPUPeriod <= 0 {
		return fmt.Errorf("cgroups: %s: cpu quota %d without a period", rel, s.CPUQuota)
	}
	for _, w := range writes(s, n.v2, n.swapFile) {
		dir := n.dir(w.controller, rel)
		if err := n.fs.Write(dir+"/"+w.file, w.value); err != nil {
			return fmt.Errorf("cgroups: set %s/%s to %s: %w", dir, w.file, w.value, err)
		}
	}
	return nil
}

// pids reads the processes of one cgroup directory.
func (n *Node) pids(dir string) ([]int, error) {
	b, err := n.fs.ReadFile(dir + "/cgroup.procs")
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("cgroups: %s/cgroup.procs: bad pid %q", dir, f)
		}
		out = append(out, pid)
	}
	return out, nil
}

// counter reads key's value from a flat keyed file (memory.events,
// memory.oom_control); a missing key is 0.
func (n *Node) counter(file, key string) (int64, error) {
	b, err := n.fs.ReadFile(file)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, " ")
		if ok && k == key {
			return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, nil
}

// cpuWeight converts cpu.shares to cgroup v2's cpu.weight as runc does.
func cpuWeight(shares uint64) uint64 { return occgroups.ConvertCPUSharesToCgroupV2Value(shares) }
