// Package container is what runc gives a kubelet, cut to what svcplane's
// pods need: the plan of one container (its root filesystem, mounts,
// namespaces, user, capabilities and cgroups, in the vocabulary of the OCI
// runtime specification) built from a pod, and the code that carries the
// plan out in a fresh process (`svcplane internal-container`) before it
// executes the workload, and joins a running container for exec.
//
// The plan uses github.com/opencontainers/runtime-spec's types for mounts,
// namespaces, capabilities and the process, so that it reads like a
// config.json; the kernel work (mounts, pivot_root, credentials) is ours,
// with github.com/moby/sys/capability for capability sets. runc's
// libcontainer would add a C constructor, a second re-exec and a
// state directory per container to every pod start; see the README.
package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Plan is everything needed to start one container instance.
type Plan struct {
	// Rootfs is the container's root: an overlay of image layers.
	Rootfs Rootfs `json:"rootfs"`
	// Mounts are made inside the root, in order, after the rootfs.
	Mounts []specs.Mount `json:"mounts"`
	// MaskedPaths are hidden (/dev/null over files, an empty read-only
	// tmpfs over directories); ReadonlyPaths are bound read-only.
	MaskedPaths   []string `json:"maskedPaths,omitempty"`
	ReadonlyPaths []string `json:"readonlyPaths,omitempty"`
	// Namespaces lists the namespaces of the container: one with a Path
	// is joined, one without is created. Absent kinds are the host's.
	Namespaces []specs.LinuxNamespace `json:"namespaces"`
	Hostname   string                 `json:"hostname,omitempty"`
	// Devices are the device nodes made in the container's /dev.
	Devices []specs.LinuxDevice `json:"devices,omitempty"`
	Process Process             `json:"process"`
	// CgroupProcs are the cgroup.procs files the container's first
	// process writes itself into before it runs the workload.
	CgroupProcs []string `json:"cgroupProcs,omitempty"`
	// Seccomp is the workload's system call filter (nil: unconfined).
	Seccomp *specs.LinuxSeccomp `json:"seccomp,omitempty"`
}

// Rootfs is an overlay: Layers (lowest first) under a writable Upper.
type Rootfs struct {
	Layers []string `json:"layers"`
	// Upper and Work are the overlay's upper and work directories; Target
	// is where the overlay is mounted before the root pivots into it.
	Upper  string `json:"upper"`
	Work   string `json:"work"`
	Target string `json:"target"`
	// Readonly remounts the root read-only (readOnlyRootFilesystem).
	Readonly bool `json:"readonly,omitempty"`
}

// Process is the workload and the identity it runs with.
type Process struct {
	Args []string `json:"args"`
	Env  []string `json:"env"`
	Cwd  string   `json:"cwd"`
	User User     `json:"user"`
	// Capabilities are the sets the workload keeps.
	Capabilities    *specs.LinuxCapabilities `json:"capabilities,omitempty"`
	NoNewPrivileges bool                     `json:"noNewPrivileges,omitempty"`
	OOMScoreAdj     *int                     `json:"oomScoreAdj,omitempty"`
}

// User says who the workload runs as. Without UID, Image (the image's
// USER: name or uid, optionally with :group) is resolved against the
// container's /etc/passwd and /etc/group, as containerd does.
type User struct {
	UID   *int64 `json:"uid,omitempty"`
	GID   *int64 `json:"gid,omitempty"`
	Image string `json:"image,omitempty"`
	// Supplemental groups come on top of the user's own groups.
	Supplemental []int64 `json:"supplemental,omitempty"`
}

// Namespace reports whether the plan has a namespace of kind t and its
// path ("" when the namespace is created).
func (p *Plan) Namespace(t specs.LinuxNamespaceType) (path string, ok bool) {
	for _, ns := range p.Namespaces {
		if ns.Type == t {
			return ns.Path, true
		}
	}
	return "", false
}
