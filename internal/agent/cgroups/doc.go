// Package cgroups gives the node agent a cgroup per pod and per container,
// with the limits kubelet would set through its container runtime.
//
// # Layout
//
// New creates the node's root, Config.Name, under the agent's own cgroup
// (or Config.Parent) in each hierarchy, then kubelet's QoS cgroups below it
// as its cgroupfs driver names them:
//
//	<own cgroup>/svcplane-<cluster>-<node>/
//	    kubepods/                       Guaranteed pods
//	        pod<uid>/<container>_<attempt>
//	        burstable/pod<uid>/...      Burstable pods (and a pod without status.qosClass)
//	        besteffort/pod<uid>/...     BestEffort pods; cpu.shares 2
//
// Each container instance (a restart is a new attempt) gets its own cgroup.
// The container's init (`svcplane internal-init`) writes its own pid into
// each of Container.Procs before it execs the workload, so the workload and
// everything it forks start inside the limits; that path only writes files.
//
// # Versions
//
// cgroup v2 is used when /sys/fs/cgroup is a cgroup2 mount (unified mode);
// otherwise the v1 hierarchies, ignoring a hybrid cgroup2 (which has no
// controllers while v1 holds them). On v1 the node uses the memory, cpu,
// cpuacct (optional, usage only), pids and freezer hierarchies (cpu and
// cpuacct may be co-mounted); Procs has one file per hierarchy. On v2 it
// enables cpu, memory and pids from the mount down to its root and in every
// cgroup but a container's. A v2 cgroup holding processes cannot pass
// controllers on (the no-internal-process rule), so when the agent's own
// cgroup holds processes (say a login session's scope) the root goes into
// the nearest ancestor that can: beside the agent's cgroup, not below it;
// Config.Parent chooses another place (a systemd unit with Delegate=yes).
//
// Files written (zero settings leave the kernel's default, unlimited):
//
//	            v1                                  v2
//	memory      memory.limit_in_bytes (+memsw)     memory.max (+memory.swap.max 0)
//	cpu limit   cpu.cfs_period_us, cpu.cfs_quota_us cpu.max "quota period"
//	cpu request cpu.shares                          cpu.weight (runc's conversion)
//	pids        pids.max (pod only)                 pids.max (pod only)
//
// OOMKilled reads oom_kill from memory.oom_control (v1) or memory.events
// (v2). Kill freezes the cgroup (freezer.state, cgroup.freeze), SIGKILLs
// what is in it and below, thaws and waits until it is empty; v2 uses
// cgroup.kill where the kernel has it. Remove never kills: it fails with
// ErrBusy while processes are left.
//
// # What kubelet does that we do and do not
//
// Done as kubelet: the QoS layout; pod cgroups with the sum of the
// containers' limits when every container declares one (init containers
// counted at their peak, sidecars in the sum, pod overhead added), shares
// from requests (MilliCPUToShares, minimum 2), CFS quota from limits
// (MilliCPUToQuota, period 100ms, at least 1ms); container memory limit
// with swap held to it; a pod pids limit (kubelet's podPidsLimit, here
// 4096 by default). Not done: cpuset (CPU manager), hugetlb, memory.high
// and memory.min (MemoryQoS), the node-allocatable reservation on
// kubepods, the Burstable QoS cgroup's shares kept at the sum of its pods'
// requests, blkio/io, devices (runc's device cgroup: the agent does not
// make devices reachable through cgroups; the container's /dev is what
// guards them), and the process's oom_score_adj (a process setting, not a
// cgroup one: the runtime sets it).
//
// # Library or files
//
// The package writes the cgroupfs files itself; it uses
// github.com/opencontainers/cgroups only in New (version detection, the v1
// mounts and the agent's own cgroup from mountinfo) and for runc's
// shares-to-weight conversion. Its fs/fs2 managers cost the same on the pod
// start path (BenchmarkLibraryContainer against BenchmarkContainer: 0.7 to
// 1.2 ms each for a v1 container cgroup made, set and removed, on a loaded
// 2-core machine), so speed did not decide: they model one runc container
// (a path map, Apply, Set, Destroy) where the agent needs a tree (QoS and
// pod cgroups, reattach, recursive kill), and the settings are six files.
// The container's init writes its pid with plain writes and never loads
// the library.
//
// Cost (BenchmarkPodCgroups, v1, load 10 on 2 cores): a pod cgroup 0.5 ms,
// a container cgroup 0.4 to 0.7 ms, removing both 0.3 to 0.4 ms.
package cgroups
