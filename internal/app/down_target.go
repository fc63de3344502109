package app

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/svcplane/svcplane/internal/clusterdir"
)

// downTarget is the cluster `svcplane down` removes.
type downTarget struct {
	// Name is the cluster's (its sp-<name>- prefix); empty when the data
	// directory's up made nothing on the machine.
	Name string
	// DataDir is its data directory, "" when unknown.
	DataDir string
	// NamedDir says the user named DataDir (--data-dir), which allows
	// stopping the up that runs from it.
	NamedDir bool
	// Node is set for a joined node's data directory: only that node's
	// things are removed.
	Node string
}

// downInput is what the choice of a target depends on.
type downInput struct {
	Sandbox, DataDir string
	// Record is the data directory's, nil when it has none.
	Record *clusterdir.Record
	// Clusters are the clusters on the machine, with their registered data
	// directories ("" when unknown).
	Clusters map[string]string
}

// errChooseCluster asks the user to name the cluster.
var errChooseCluster = errors.New("several clusters on this machine: name one with --sandbox NAME or --data-dir DIR")

// chooseTarget decides which cluster down removes: the one the data
// directory records, else the one named, else the only one on the
// machine. ok is false when there is nothing to remove.
func chooseTarget(in downInput) (t downTarget, ok bool, err error) {
	switch {
	case in.DataDir != "" && in.Record != nil:
		if in.Sandbox != "" && in.Sandbox != in.Record.Name {
			return t, false, fmt.Errorf("data directory %s belongs to cluster %q, not %q", in.DataDir, in.Record.Name, in.Sandbox)
		}
		return downTarget{Name: in.Record.Name, DataDir: in.DataDir, NamedDir: true, Node: in.Record.Node}, true, nil
	case in.DataDir != "" && in.Sandbox != "":
		return downTarget{Name: in.Sandbox, DataDir: in.DataDir, NamedDir: true}, true, nil
	case in.DataDir != "":
		return t, false, fmt.Errorf("data directory %s records no cluster (has svcplane up run there?): name it with --sandbox", in.DataDir)
	case in.Sandbox != "":
		return downTarget{Name: in.Sandbox, DataDir: in.Clusters[in.Sandbox]}, true, nil
	}
	switch len(in.Clusters) {
	case 0:
		return t, false, nil
	case 1:
		for name, dir := range in.Clusters {
			return downTarget{Name: name, DataDir: dir}, true, nil
		}
	}
	return t, false, errChooseCluster
}

// describeClusters lists clusters one a line, as down shows them.
func describeClusters(clusters map[string]string) string {
	names := make([]string, 0, len(clusters))
	for n := range clusters {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		dir := clusters[n]
		if dir == "" {
			dir = "data directory unknown"
		}
		fmt.Fprintf(&b, "  %-24s %s\n", n, dir)
	}
	return b.String()
}

// clusterOfNetns returns the cluster of a namespace named
// sp-<cluster>-node-... or sp-<cluster>-pod-..., or "".
func clusterOfNetns(name string) string {
	rest, ok := strings.CutPrefix(name, "sp-")
	if !ok {
		return ""
	}
	best := -1
	for _, kind := range []string{"-node-", "-pod-"} {
		if i := strings.Index(rest, kind); i > 0 && (best < 0 || i < best) {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	return rest[:best]
}
