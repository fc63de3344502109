package container

import specs "github.com/opencontainers/runtime-spec/specs-go"

// LegacyExec is the plan of an exec into a container that an svcplane
// from before plans started (its init.json names no plan) and that still
// runs after an upgrade: such a container has the node's root, runs as
// root with the agent's capabilities, in its init's mount and UTS
// namespaces and the pod's network namespace at netnsPath (none for
// hostNetwork), and so does the exec. The network namespace is joined by
// its path: the old init stayed in the node's.
func LegacyExec(netnsPath, dir string, env []string) Plan {
	ns := []specs.LinuxNamespace{{Type: specs.UTSNamespace}}
	if netnsPath != "" {
		ns = append(ns, specs.LinuxNamespace{Type: specs.NetworkNamespace, Path: netnsPath})
	}
	caps := currentCapabilities()
	root := int64(0)
	return Plan{Namespaces: ns, Process: Process{
		Env: env, Cwd: orRoot(dir), User: User{UID: &root, GID: &root},
		Capabilities: &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
	}}
}
