package main

import (
	"context"
	"flag"
	"os"

	"github.com/svcplane/svcplane/internal/app"
)

// runUI is `svcplane ui`: the live view of a running cluster.
func runUI(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	var cfg app.UIConfig
	fs.IntVar(&cfg.Port, "port", app.DefaultUIPort, "port of the page on 127.0.0.1 (0: any free port)")
	fs.StringVar(&cfg.NetnsDir, "netns-dir", "/run/netns", "where sandboxed nodes' network namespaces are mounted")
	fs.StringVar(&cfg.Domain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	cluster := addClusterFlags(fs, true)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if cfg.Client, err = cluster.client(); err != nil {
		return err
	}
	cfg.Out, cfg.Logger = os.Stdout, newLogger(*level)
	return app.RunUI(ctx, cfg)
}
