package main

import (
	"context"
	"flag"
	"os"

	"github.com/svcplane/svcplane/internal/app"
)

// runDown removes one cluster from the machine (see app.RunDown).
func runDown(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	var cfg app.DownConfig
	fs.StringVar(&cfg.Sandbox, "sandbox", "", "name of the cluster (sandbox) to remove (default: the one the data directory records, else the only one on the machine)")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "data directory of the cluster to remove; its up, if running, is stopped")
	fs.StringVar(&cfg.NetnsDir, "netns-dir", "/run/netns", "where network namespaces are mounted")
	fs.BoolVar(&cfg.Force, "force", false, "also remove a cluster that a running up of another data directory holds (stopping it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.Out = os.Stdout
	return app.RunDown(ctx, cfg)
}
