package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/svcplane/svcplane/internal/clusterdir"
	"github.com/svcplane/svcplane/internal/netns"
)

// DownConfig configures `svcplane down`.
type DownConfig struct {
	// Sandbox names the cluster; DataDir is its data directory. Either,
	// both or neither (then the only cluster on the machine).
	Sandbox, DataDir string
	// NetnsDir is where namespaces are mounted (/run/netns).
	NetnsDir string
	// Force also removes a cluster that a running up of another data
	// directory holds, stopping that up.
	Force bool
	// Registry lists the machine's clusters (clusterdir.DefaultRegistry).
	Registry clusterdir.Registry
	// ProcRoot is /proc; StopTimeout bounds the wait for a running up to
	// stop after SIGTERM (40s).
	ProcRoot    string
	StopTimeout time.Duration
	// Out receives what down does, a line each.
	Out io.Writer
}

func (c DownConfig) withDefaults() DownConfig {
	if c.ProcRoot == "" {
		c.ProcRoot = "/proc"
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 40 * time.Second
	}
	if c.Out == nil {
		c.Out = io.Discard
	}
	return c
}

// RunDown removes one cluster from the machine: the processes of its
// pods (found from the agent's state files and from its namespaces), its
// namespaces and its agents' state. It returns an error naming what it
// could not remove.
func RunDown(_ context.Context, cfg DownConfig) error {
	cfg = cfg.withDefaults()
	if cfg.Sandbox != "" && !netns.ValidCluster(cfg.Sandbox) {
		return fmt.Errorf("invalid sandbox name %q", cfg.Sandbox)
	}
	in, err := downInputs(cfg)
	if err != nil {
		return err
	}
	t, ok, err := chooseTarget(in)
	if errors.Is(err, errChooseCluster) {
		fmt.Fprintf(cfg.Out, "svcplane clusters on this machine:\n%s", describeClusters(in.Clusters))
	}
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(cfg.Out, "no svcplane cluster on this machine: nothing to remove")
		return nil
	}
	if t.Node != "" {
		return downJoined(cfg, t)
	}
	fmt.Fprintf(cfg.Out, "removing cluster %s (data directory %s)\n", orString(t.Name, "(none)"), orString(t.DataDir, "unknown"))
	if err := stopHolders(cfg, t); err != nil {
		return err
	}
	return sweepCluster(cfg, t)
}

// downInputs reads what chooseTarget needs: the data directory's record
// and the clusters on the machine (registered, or seen by their
// namespaces).
func downInputs(cfg DownConfig) (downInput, error) {
	in := downInput{Sandbox: cfg.Sandbox, DataDir: cfg.DataDir, Clusters: map[string]string{}}
	if cfg.DataDir != "" {
		abs, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return in, err
		}
		in.DataDir = abs
		rec, ok, err := clusterdir.Read(abs)
		if err != nil {
			return in, err
		}
		if ok {
			in.Record = &rec
		}
	}
	names, err := cfg.Registry.List()
	if err != nil {
		return in, err
	}
	for _, n := range names {
		dir := cfg.Registry.Lookup(n)
		if rec, ok, _ := clusterdir.Read(dir); ok && rec.Name == n {
			in.Clusters[n] = dir
		}
	}
	spaces, err := netns.NewDir(cfg.NetnsDir).List("sp-")
	if err != nil {
		return in, err
	}
	for _, s := range spaces {
		if c := clusterOfNetns(s); c != "" {
			in.Clusters[c] = in.Clusters[c] // known or not, it exists
		}
	}
	return in, nil
}

// stopHolders refuses to go on, or stops, the running ups that hold the
// cluster: one of another data directory (only with --force), and the
// one of its own data directory (when the user named that directory, or
// with --force).
func stopHolders(cfg DownConfig, t downTarget) error {
	if t.Name != "" {
		if held := cfg.Registry.HeldElsewhere(t.Name, t.DataDir); held != nil {
			if !cfg.Force {
				return fmt.Errorf("%w: not removing it (stop that up, run `svcplane down --data-dir %s`, or pass --force)", held, held.Dir)
			}
			if err := stopUp(cfg, held.PID, held.Dir); err != nil {
				return err
			}
		}
	}
	if t.DataDir == "" {
		return nil
	}
	pid, err := clusterdir.Holder(t.DataDir)
	if err != nil || pid == 0 {
		return err
	}
	if !t.NamedDir && !cfg.Force {
		return fmt.Errorf("cluster %s is run by svcplane up (pid %d) from data directory %s: not removing it (stop that up, run `svcplane down --data-dir %s`, or pass --force)", t.Name, pid, t.DataDir, t.DataDir)
	}
	return stopUp(cfg, pid, t.DataDir)
}

// stopUp stops the up pid holding data directory dir: SIGTERM, as Ctrl-C,
// then SIGKILL once StopTimeout has passed.
func stopUp(cfg DownConfig, pid int, dir string) error {
	fmt.Fprintf(cfg.Out, "stopping svcplane up (pid %d) of data directory %s\n", pid, dir)
	_ = syscall.Kill(pid, syscall.SIGTERM)
	if waitUnheld(dir, cfg.StopTimeout) {
		return nil
	}
	fmt.Fprintf(cfg.Out, "svcplane up (pid %d) did not stop within %s: killing it\n", pid, cfg.StopTimeout)
	_ = syscall.Kill(pid, syscall.SIGKILL)
	if waitUnheld(dir, 5*time.Second) {
		return nil
	}
	return fmt.Errorf("svcplane up (pid %d) of %s does not stop", pid, dir)
}

func waitUnheld(dir string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if pid, err := clusterdir.Holder(dir); err == nil && pid == 0 {
			return true
		}
	}
	return false
}

// agentRuntimeRoots are the process runtimes' roots in a data directory.
func agentRuntimeRoots(dataDir string) []string {
	roots, _ := filepath.Glob(filepath.Join(dataDir, "agents", "*", "runtime"))
	return roots
}

// isSvcplane says whether argv[0] runs a svcplane binary.
func isSvcplane(args []string) bool {
	if len(args) == 0 {
		return false
	}
	self, _ := os.Executable()
	return filepath.Base(args[0]) == "svcplane" || args[0] == self || strings.HasSuffix(args[0], "/svcplane")
}
