package app

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/agent/runtime/process"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/podnet"
	"github.com/svcplane/svcplane/internal/proctable"
)

// sweepReport is what one down did and could not do.
type sweepReport struct {
	killed int
	left   []string
}

func (r *sweepReport) fail(format string, args ...any) {
	r.left = append(r.left, fmt.Sprintf(format, args...))
}

// sweepCluster removes what t made on the machine, in the order that
// finds the most: pods' processes from the agents' state files (which
// works where the namespaces' mounts are not visible, as when up ran under
// `ip netns exec`), then every namespace with the cluster's prefix and
// what runs inside, then svcplane processes still naming the data
// directory, and last the agents' state.
func sweepCluster(cfg DownConfig, t downTarget) error {
	var rep sweepReport
	if t.DataDir != "" {
		killRecorded(cfg, t.DataDir, &rep)
	}
	if t.Name != "" {
		sweepNamespaces(cfg, t.Name, &rep)
	}
	if t.Name == "" { // up ran on the machine's own namespace
		if err := netns.DeleteLink(hostNetns, podnet.Device); err != nil {
			rep.fail("%v", err)
		}
	}
	if t.DataDir != "" {
		killNaming(cfg, t.DataDir, &rep)
		unmountUnder(filepath.Join(t.DataDir, "agents"), &rep)
		removeCgroups(t.DataDir, &rep)
		if err := os.RemoveAll(filepath.Join(t.DataDir, "agents")); err != nil {
			rep.fail("agent state: %v", err)
		}
	}
	if t.Name != "" && (t.DataDir == "" || cfg.Registry.Lookup(t.Name) == t.DataDir) {
		if err := cfg.Registry.Remove(t.Name); err != nil {
			rep.fail("%v", err)
		}
	}
	if rep.killed > 0 {
		fmt.Fprintf(cfg.Out, "killed %d processes\n", rep.killed)
	}
	if len(rep.left) == 0 {
		return nil
	}
	for _, l := range rep.left {
		fmt.Fprintln(cfg.Out, "could not remove:", l)
	}
	return fmt.Errorf("cluster %s: %d things could not be removed (listed above)", orString(t.Name, t.DataDir), len(rep.left))
}

// removeCgroups kills what is left in each agent's cgroup tree and
// removes the tree.
func removeCgroups(dataDir string, rep *sweepReport) {
	files, _ := filepath.Glob(filepath.Join(dataDir, "agents", "*", cgroupFile))
	for _, f := range files {
		name, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := cgroups.New(cgroups.Config{Name: strings.TrimSpace(string(name))})
		if err == nil {
			err = n.Cleanup()
		}
		if err != nil {
			rep.fail("cgroups %s: %v", name, err)
		}
	}
}

// unmountUnder detaches every mount below dir that this mount namespace
// sees (the pods' pinned IPC namespaces), deepest first.
func unmountUnder(dir string, rep *sweepReport) {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		rep.fail("list mounts: %v", err)
		return
	}
	slices.SortFunc(mounts, func(a, b *mountinfo.Info) int { return len(b.Mountpoint) - len(a.Mountpoint) })
	for _, m := range mounts {
		if err := unix.Unmount(m.Mountpoint, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			rep.fail("unmount %s: %v", m.Mountpoint, err)
		}
	}
}

// killRecorded kills the init of every container the agents' state
// records, with its descendants, its session, and every process in its
// pod's network namespace (found through the init's /proc entry, which
// works where the namespace's mount cannot be seen).
func killRecorded(cfg DownConfig, dataDir string, rep *sweepReport) {
	var inits []process.RecordedInit
	for _, root := range agentRuntimeRoots(dataDir) {
		r, err := process.RecordedInits(root)
		if err != nil {
			rep.fail("agent state in %s: %v", root, err)
		}
		inits = append(inits, r...)
	}
	if len(inits) == 0 {
		return
	}
	all, err := proctable.List(cfg.ProcRoot)
	if err != nil {
		rep.fail("%v", err)
		return
	}
	refs := make([]proctable.Ref, 0, len(inits))
	for _, in := range inits {
		refs = append(refs, in.Ref)
		if !in.HostNetwork {
			refs = append(refs, inPodNetns(cfg, all, in.Ref)...)
		}
	}
	kill(cfg, proctable.Family(all, refs), "pod process", rep)
}

// inPodNetns returns the processes in the network namespace of the pod
// whose recorded init is r, if it still runs. The init's main thread
// stays in the node's namespace and one of its threads enters the pod's:
// that is the namespace other than the node's and down's own.
func inPodNetns(cfg DownConfig, all []proctable.Proc, r proctable.Ref) []proctable.Ref {
	if !slices.ContainsFunc(all, r.Matches) {
		return nil
	}
	dir := filepath.Join(cfg.ProcRoot, strconv.Itoa(r.PID))
	node, err := netns.Inode(filepath.Join(dir, "ns", "net"))
	if err != nil {
		return nil
	}
	own, err := netns.Inode("/proc/self/ns/net")
	if err != nil {
		return nil
	}
	threads, _ := filepath.Glob(filepath.Join(dir, "task", "*", "ns", "net"))
	var out []proctable.Ref
	seen := map[uint64]bool{node: true, own: true}
	for _, th := range threads {
		ino, err := netns.Inode(th)
		if err != nil || seen[ino] {
			continue
		}
		seen[ino] = true
		for _, pid := range netns.ProcessesIn(ino) {
			out = append(out, proctable.Ref{PID: pid})
		}
	}
	return out
}

// kill kills procs and reports those that survive.
func kill(cfg DownConfig, procs []proctable.Proc, what string, rep *sweepReport) {
	left := proctable.Kill(cfg.ProcRoot, procs, 5*time.Second)
	rep.killed += len(procs) - len(left)
	for _, p := range left {
		rep.fail("%s %s still runs", what, p)
	}
}

// sweepNamespaces removes the cluster's namespaces and kills what runs in
// those it can see. A namespace file that is no namespace here was
// mounted in another mount namespace: its processes could only be found
// from the state files.
func sweepNamespaces(cfg DownConfig, name string, rep *sweepReport) {
	dir := netns.NewDir(cfg.NetnsDir)
	prefix := netns.Names{Cluster: name}.Prefix()
	names, _ := dir.List(prefix)
	hidden := 0
	for _, n := range names {
		if !netns.IsMounted(dir.Path(n)) {
			hidden++
		}
	}
	removed, err := netns.Sweep(dir, prefix)
	for _, n := range removed {
		fmt.Fprintln(cfg.Out, "removed netns", n)
	}
	if hidden > 0 {
		fmt.Fprintf(cfg.Out, "%d of these namespaces were not mounted here (up ran in another mount namespace, e.g. under `ip netns exec`): their processes were found from the agent's state\n", hidden)
	}
	if err != nil {
		for _, e := range unjoin(err) {
			rep.fail("%v", e)
		}
	}
}

// killNaming kills the svcplane processes (up, its sandboxed child,
// containers' inits) that still name the data directory, and reports any
// other process that does.
func killNaming(cfg DownConfig, dataDir string, rep *sweepReport) {
	all, err := proctable.List(cfg.ProcRoot)
	if err != nil {
		rep.fail("%v", err)
		return
	}
	var ours []proctable.Proc
	for _, p := range proctable.Naming(all, dataDir) {
		if isSvcplane(p.Args) {
			ours = append(ours, p)
		} else {
			fmt.Fprintf(cfg.Out, "left alone: process %s names the data directory\n", p)
		}
	}
	kill(cfg, ours, "svcplane process", rep)
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}
