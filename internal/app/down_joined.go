package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/svcplane/svcplane/internal/agent/hostport"
	"github.com/svcplane/svcplane/internal/agent/runtime/process"
	"github.com/svcplane/svcplane/internal/clusterdir"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/podnet"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// downJoined removes what a joined node made, as kubeadm reset does: it
// stops the join running from the data directory, kills its pods'
// processes, deletes its pods' namespaces (those its state records; the
// cluster's other namespaces share their prefix and stay), its cgroups,
// and in the network namespace down runs in (the node's) its overlay
// device, bridge, proxy rules and hostPort table; then its state and
// credentials. The Node object stays in the cluster, as with kubeadm.
func downJoined(cfg DownConfig, t downTarget) error {
	fmt.Fprintf(cfg.Out, "removing joined node %s of cluster %s (data directory %s)\n", t.Node, t.Name, t.DataDir)
	pid, err := clusterdir.Holder(t.DataDir)
	if err != nil {
		return err
	}
	if pid != 0 {
		if err := stopUp(cfg, pid, t.DataDir); err != nil {
			return err
		}
	}
	var rep sweepReport
	killRecorded(cfg, t.DataDir, &rep)
	deleteRecordedNetns(cfg, t.DataDir, &rep)
	killNaming(cfg, t.DataDir, &rep)
	unmountUnder(filepath.Join(t.DataDir, "agents"), &rep)
	removeCgroups(t.DataDir, &rep)
	removeNodeNetwork(&rep)
	for _, p := range []string{"agents", "join", "cluster.json"} {
		if err := os.RemoveAll(filepath.Join(t.DataDir, p)); err != nil {
			rep.fail("%v", err)
		}
	}
	return rep.result(cfg, "joined node "+t.Node)
}

// deleteRecordedNetns deletes the pods' namespaces the agents' state
// records.
func deleteRecordedNetns(cfg DownConfig, dataDir string, rep *sweepReport) {
	dir := netns.NewDir(cfg.NetnsDir)
	for _, root := range agentRuntimeRoots(dataDir) {
		names, err := process.RecordedNetns(root)
		if err != nil {
			rep.fail("agent state in %s: %v", root, err)
		}
		for _, n := range names {
			if err := dir.Delete(n); err != nil {
				rep.fail("%v", err)
				continue
			}
			fmt.Fprintln(cfg.Out, "removed netns", n)
		}
	}
}

// removeNodeNetwork removes, in this network namespace, the node's
// overlay device and bridge, every proxy mode's rules and the hostPort
// table.
func removeNodeNetwork(rep *sweepReport) {
	for _, link := range []string{podnet.Device, netns.BridgeName} {
		if err := netns.DeleteLink(hostNetns, link); err != nil {
			rep.fail("%v", err)
		}
	}
	quiet := slog.New(slog.DiscardHandler)
	ctx := context.Background()
	if err := CleanupProxy(ctx, ProxyConfig{KubeProxy: proxyconfig.Default(), IPTablesBackend: "auto", Logger: quiet}); err != nil {
		rep.fail("proxy rules: %v", err)
	}
	if t, err := hostport.Open("", quiet); err == nil {
		if err := t.Sync(ctx, nil); err != nil {
			rep.fail("%v", err)
		}
	}
}

// result prints what could not be removed and returns an error if
// anything.
func (r *sweepReport) result(cfg DownConfig, what string) error {
	if r.killed > 0 {
		fmt.Fprintf(cfg.Out, "killed %d processes\n", r.killed)
	}
	if len(r.left) == 0 {
		return nil
	}
	for _, l := range r.left {
		fmt.Fprintln(cfg.Out, "could not remove:", l)
	}
	return fmt.Errorf("%s: %d things could not be removed (listed above)", what, len(r.left))
}
