package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/app"
)

// apiServerFlags binds the API server's flags to cfg.
func apiServerFlags(fs *flag.FlagSet, cfg *app.APIServerConfig) *string {
	fs.StringVar(&cfg.DataDir, "data-dir", "/var/lib/svcplane", "directory for etcd data, certificates and kubeconfigs")
	fs.StringVar(&cfg.BindAddress, "bind-address", "127.0.0.1", "address the API is served on")
	fs.IntVar(&cfg.Port, "secure-port", 6443, "port the API is served on (HTTPS)")
	fs.StringVar(&cfg.AdvertiseAddress, "advertise-address", "", "address the kubernetes Service's endpoints list for this server (default: the bind address)")
	fs.DurationVar(&cfg.CompactionInterval, "etcd-compaction-interval", 0, "interval between etcd compactions (default 5m)")
	etcd := fs.String("etcd-servers", "", "comma-separated etcd client URLs; empty runs an embedded etcd in the data directory")
	fs.Func("service-cluster-ip-range", "service CIDR, or two comma-separated (one per IP family) for dual stack (default 10.96.0.0/12)", func(s string) error {
		cfg.Cluster.ServiceCIDRs = splitList(s)
		return nil
	})
	fs.StringVar(&cfg.Cluster.NodePortRange, "service-node-port-range", "30000-32767", "port range of NodePort Services")
	fs.Func("default-not-ready-toleration-seconds", "tolerationSeconds of the toleration for node.kubernetes.io/not-ready:NoExecute that DefaultTolerationSeconds admission gives every pod without one (default 300)", int64Flag(&cfg.DefaultNotReadyTolerationSeconds))
	fs.Func("default-unreachable-toleration-seconds", "tolerationSeconds of the toleration for node.kubernetes.io/unreachable:NoExecute that DefaultTolerationSeconds admission gives every pod without one (default 300)", int64Flag(&cfg.DefaultUnreachableTolerationSeconds))
	return etcd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func runAPIServer(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("apiserver", flag.ContinueOnError)
	var cfg app.APIServerConfig
	etcd := apiServerFlags(fs, &cfg)
	fs.StringVar(&cfg.Cluster.ClusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain: the serving certificate names kubernetes.default.svc.<domain>, the issuer of service account tokens is https://kubernetes.default.svc.<domain>")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.EtcdServers = splitList(*etcd)
	cfg.Logger = newLogger(*level)
	return app.RunAPIServer(ctx, cfg)
}

func runUp(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	var cfg app.UpConfig
	etcd := apiServerFlags(fs, &cfg.APIServer)
	fs.BoolVar(&cfg.Example, "example", true, "create the example workload (namespace demo) on first start")
	fs.BoolVar(&cfg.IgnorePreflight, "ignore-preflight", false, "go on when the pre-flight checks find something missing (they are printed as warnings)")
	controllerFlags(fs, &cfg.Controllers)
	upAgentFlags(fs, &cfg, args)
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg.APIServer.EtcdServers = splitList(*etcd)
	fs.Visit(func(f *flag.Flag) { cfg.Proxy.ModeSet = cfg.Proxy.ModeSet || f.Name == "proxy-mode" })
	cfg.Logger = newLogger(*level)
	cfg.Out = os.Stdout
	return app.RunUp(ctx, cfg)
}

func runKubeconfig(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("kubeconfig", flag.ContinueOnError)
	dir := fs.String("data-dir", "/var/lib/svcplane", "data directory of the cluster")
	if err := fs.Parse(args); err != nil {
		return err
	}
	path := filepath.Join(*dir, "admin.kubeconfig")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no admin kubeconfig yet (has `svcplane up` run with --data-dir %s?): %w", *dir, err)
	}
	fmt.Println(path)
	return nil
}

func runVersion(context.Context, []string) error {
	v := apiserver.Version()
	fmt.Printf("svcplane (Kubernetes API %s, %s, %s)\n", apiserver.KubernetesVersion, v.GoVersion, v.Platform)
	return nil
}

// int64Flag parses a flag's value into *dst.
func int64Flag(dst **int64) func(string) error {
	return func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		*dst = &n
		return nil
	}
}
