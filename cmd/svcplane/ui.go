package main

import (
	"context"
	"flag"
	"os"
	"path/filepath"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svcplane/svcplane/internal/app"
)

// runUI is `svcplane ui`: the live view of a running cluster.
func runUI(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ui", flag.ContinueOnError)
	var cfg app.UIConfig
	fs.IntVar(&cfg.Port, "port", app.DefaultUIPort, "port of the page on 127.0.0.1 (0: any free port)")
	fs.StringVar(&cfg.NetnsDir, "netns-dir", "/run/netns", "where sandboxed nodes' network namespaces are mounted")
	fs.StringVar(&cfg.Domain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	dir := fs.String("data-dir", "/var/lib/svcplane", "data directory of the cluster (its admin.kubeconfig is used)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default: $KUBECONFIG, else admin.kubeconfig in --data-dir)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := *kubeconfig
	if path == "" {
		path = os.Getenv("KUBECONFIG")
	}
	if path == "" {
		path = filepath.Join(*dir, "admin.kubeconfig")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return err
	}
	if cfg.Client, err = kubernetes.NewForConfig(rc); err != nil {
		return err
	}
	cfg.Out, cfg.Logger = os.Stdout, newLogger(*level)
	return app.RunUI(ctx, cfg)
}
