package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	occgroups "github.com/opencontainers/cgroups"
	"golang.org/x/sys/unix"
)

const unifiedMount = "/sys/fs/cgroup"

// v1Controllers are the v1 hierarchies a node uses; cpuacct is optional
// (it only gives CPU usage), the others are required.
var v1Controllers = []string{"memory", "cpu", "cpuacct", "pids", "freezer"}

// v2Controllers are enabled down to every pod cgroup.
const v2Controllers = "+cpu +memory +pids"

// hierarchy is one mounted tree the node writes to: on v1 the mount of one
// or more co-mounted controllers, on v2 the unified tree. dir is the base
// the node's root is created in.
type hierarchy struct {
	controllers []string
	dir         string
}

// layout is what detection found: the version and the base directories.
type layout struct {
	v2    bool
	trees []hierarchy
}

// detect finds the cgroup version and the base cgroup (parent, or the
// agent's own) in each hierarchy.
func detect(parent string) (layout, error) {
	if occgroups.IsCgroup2UnifiedMode() {
		return detectV2(parent)
	}
	return detectV1(parent)
}

func detectV1(parent string) (layout, error) {
	var l layout
	for _, c := range v1Controllers {
		dir, err := v1Base(c, parent)
		if err != nil {
			if c == "cpuacct" {
				continue
			}
			return layout{}, fmt.Errorf("cgroup v1 %s hierarchy: %w", c, err)
		}
		if i := slices.IndexFunc(l.trees, func(h hierarchy) bool { return h.dir == dir }); i >= 0 {
			l.trees[i].controllers = append(l.trees[i].controllers, c)
			continue
		}
		l.trees = append(l.trees, hierarchy{controllers: []string{c}, dir: dir})
	}
	return l, nil
}

func v1Base(controller, parent string) (string, error) {
	if parent == "" {
		return occgroups.GetOwnCgroupPath(controller)
	}
	mnt, root, err := occgroups.FindCgroupMountpointAndRoot("", controller)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(root, parent)
	if err != nil || strings.HasPrefix(rel, "..") {
		return "", fmt.Errorf("parent %s is outside the mounted tree %s", parent, root)
	}
	return filepath.Join(mnt, rel), nil
}

func detectV2(parent string) (layout, error) {
	if parent == "" {
		own, err := occgroups.ParseCgroupFile("/proc/self/cgroup")
		if err != nil {
			return layout{}, err
		}
		parent = own[""]
	}
	base, err := delegate(unifiedMount, parent, os.WriteFile)
	if err != nil {
		return layout{}, err
	}
	return layout{v2: true, trees: []hierarchy{{controllers: []string{"cpu", "memory", "pids"}, dir: base}}}, nil
}

// delegate enables the cpu, memory and pids controllers from the mount
// down to cgroup path (relative to mount) and returns the deepest
// directory whose children get them. A cgroup holding processes cannot
// give controllers to children (EBUSY, cgroup v2's no-internal-process
// rule): the node's root then goes into its nearest ancestor that can,
// i.e. beside the agent's cgroup rather than below it.
func delegate(mount, path string, write func(string, []byte, os.FileMode) error) (string, error) {
	dir := mount
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i := 0; ; i++ {
		err := write(filepath.Join(dir, "cgroup.subtree_control"), []byte(v2Controllers), 0)
		switch {
		case errors.Is(err, unix.EBUSY) && dir != mount:
			return filepath.Dir(dir), nil
		case err != nil:
			return "", fmt.Errorf("cgroup v2: enable %q in %s: %w", v2Controllers, dir, err)
		}
		if i == len(parts) || parts[i] == "" {
			return dir, nil
		}
		dir = filepath.Join(dir, parts[i])
	}
}
