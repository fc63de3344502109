package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/svcplane/svcplane/internal/netns"
)

// runDown removes everything a cluster made on the machine: every
// namespace named with its prefix and each process inside, and the
// agents' runtime state in the data directory.
func runDown(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	sandbox := fs.String("sandbox", "", "name of the sandbox (or cluster) to remove")
	dir := fs.String("netns-dir", "/run/netns", "where network namespaces are mounted")
	dataDir := fs.String("data-dir", "", "data directory whose agent state to remove too")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sandbox == "" {
		*sandbox = "svcplane"
	}
	if !netns.ValidCluster(*sandbox) {
		return fmt.Errorf("invalid sandbox name %q", *sandbox)
	}
	names := netns.Names{Cluster: *sandbox}
	removed, err := netns.Sweep(netns.NewDir(*dir), names.Prefix())
	for _, n := range removed {
		fmt.Println("removed netns", n)
	}
	if *dataDir != "" {
		if rerr := os.RemoveAll(filepath.Join(*dataDir, "agents")); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}
