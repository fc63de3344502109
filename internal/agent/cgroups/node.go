package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Config says where a node's cgroups go.
type Config struct {
	// Name is the node's root cgroup, one path element, unique on the
	// machine: several agents (nodes of several clusters) may run at once,
	// so include the cluster in it, e.g. "svcplane-<cluster>-<node>".
	Name string
	// Parent is the cgroup (as /proc/self/cgroup names it) to create the
	// root in; empty for the agent's own cgroup in each hierarchy.
	Parent string
	// PidsLimit is the pids limit of each pod; 0 for DefaultPidsLimit,
	// negative for none.
	PidsLimit int64
}

// Node is one agent's tree of pod and container cgroups. Its methods only
// touch cgroupfs and are safe for concurrent use on different pods.
type Node struct {
	v2        bool
	trees     []hierarchy // dir is the node's root here
	pidsLimit int64
	swapFile  string // memory.memsw.limit_in_bytes or memory.swap.max where the kernel has it
	fs        fsys
}

// Qos cgroups below the node's root, as kubelet's cgroupfs driver names
// them: Guaranteed pods sit in kubepods itself.
const (
	podsDir       = "kubepods"
	burstableDir  = "kubepods/burstable"
	besteffortDir = "kubepods/besteffort"
)

// New detects the cgroup version and creates the node's root with kubelet's
// QoS cgroups below it (BestEffort gets the minimum cpu shares). It reuses
// a root left by an earlier run: see Pods.
func New(cfg Config) (*Node, error) {
	if err := checkName(cfg.Name); err != nil {
		return nil, fmt.Errorf("cgroups: node root: %w", err)
	}
	l, err := detect(cfg.Parent)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	return newNode(cfg, l, realFS{})
}

func newNode(cfg Config, l layout, fs fsys) (*Node, error) {
	n := &Node{v2: l.v2, pidsLimit: cfg.PidsLimit, fs: fs}
	if n.pidsLimit == 0 {
		n.pidsLimit = DefaultPidsLimit
	}
	for _, h := range l.trees {
		n.trees = append(n.trees, hierarchy{controllers: h.controllers, dir: filepath.Join(h.dir, cfg.Name)})
	}
	for _, rel := range []string{"", podsDir, burstableDir, besteffortDir} {
		if err := n.mkdir(rel, true); err != nil {
			return nil, err
		}
	}
	n.swapFile = n.findSwapFile()
	if err := n.apply(besteffortDir, Settings{CPUShares: MinShares}); err != nil {
		return nil, err
	}
	return n, nil
}

// Version is 1 or 2.
func (n *Node) Version() int {
	if n.v2 {
		return 2
	}
	return 1
}

// Dirs are the node's root cgroup directories, one per hierarchy.
func (n *Node) Dirs() []string { return n.dirs("") }

// Cleanup kills every process left in the node's tree and removes it all
// (for `svcplane down` and tests).
func (n *Node) Cleanup() error {
	if err := n.kill(""); err != nil {
		return err
	}
	return n.removeTree("")
}

func checkName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("invalid cgroup name %q", name)
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("invalid cgroup name %q: it must be one path element", name)
	case len(name) > 200:
		return fmt.Errorf("invalid cgroup name %q: longer than 200 bytes", name)
	}
	return nil
}

// qosDir is the QoS cgroup of a pod; an unset class (a pod stored before
// the API server set it) counts as Burstable.
func qosDir(class corev1.PodQOSClass) string {
	switch class {
	case corev1.PodQOSGuaranteed:
		return podsDir
	case corev1.PodQOSBestEffort:
		return besteffortDir
	}
	return burstableDir
}

// dirs are the directories of cgroup rel (relative to the node's root).
func (n *Node) dirs(rel string) []string {
	out := make([]string, len(n.trees))
	for i, h := range n.trees {
		out[i] = filepath.Join(h.dir, rel)
	}
	return out
}

// dir is the directory of cgroup rel in the hierarchy of controller.
func (n *Node) dir(controller, rel string) string {
	for _, h := range n.trees {
		for _, c := range h.controllers {
			if c == controller {
				return filepath.Join(h.dir, rel)
			}
		}
	}
	return ""
}

// mkdir creates cgroup rel in every hierarchy; on v2 a parent (any
// cgroup but a container's) passes the controllers on to its children.
func (n *Node) mkdir(rel string, parent bool) error {
	for _, d := range n.dirs(rel) {
		if err := n.fs.Mkdir(d); err != nil && !errors.Is(err, os.ErrExist) {
			return fmt.Errorf("cgroups: create %s: %w", d, err)
		}
	}
	if n.v2 && parent {
		return n.fs.Write(filepath.Join(n.trees[0].dir, rel, "cgroup.subtree_control"), v2Controllers)
	}
	return nil
}

func (n *Node) findSwapFile() string {
	name := "memory.memsw.limit_in_bytes"
	if n.v2 {
		name = "memory.swap.max"
	}
	if _, err := n.fs.Stat(filepath.Join(n.dir("memory", podsDir), name)); err != nil {
		return ""
	}
	return name
}
