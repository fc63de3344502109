package main

import (
	"context"
	"flag"
	"fmt"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"
	"os"
	"os/exec"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
	"github.com/svcplane/svcplane/internal/netns"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// runProxy runs the node proxy with kube-proxy's flags, or `proxy rules`.
func runProxy(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "rules" {
		return runProxyRules(ctx, args[1:])
	}
	fs := flag.NewFlagSet("proxy", flag.ContinueOnError)
	flags := proxyconfig.NewFlags(fs)
	follow := fs.String("follow-configmap", "", "namespace/name of a kube-proxy ConfigMap whose config.conf the proxy follows live (kube-system/kube-proxy); changes switch modes without a restart")
	backend := fs.String("iptables-backend", "auto", "iptables backend: legacy, nft, or auto (the one the node already uses; legacy when neither holds rules)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	kp, err := flags.Config()
	if err != nil {
		return err
	}
	log := newLoggerLevel(flags.LogLevel())
	if flags.WriteConfigTo != "" {
		data, err := proxyconfig.Marshal(kp)
		if err != nil {
			return err
		}
		return os.WriteFile(flags.WriteConfigTo, data, 0o644)
	}
	// Without --follow-configmap the --config file is followed: in the
	// kube-proxy DaemonSet's pod it is the ConfigMap's volume.
	cfg := app.ProxyConfig{KubeProxy: kp, IPTablesBackend: *backend, ConfigMap: *follow, ConfigFile: flags.ConfigFile,
		Logger: log, Override: flagOverride(kp)}
	if flags.Cleanup {
		return app.CleanupProxy(ctx, cfg)
	}
	rc, err := kubeconfig.RESTConfig(kp.ClientConnection.Kubeconfig)
	if err != nil {
		return err
	}
	if kp.ClientConnection.QPS > 0 {
		rc.QPS, rc.Burst = kp.ClientConnection.QPS, int(kp.ClientConnection.Burst)
	}
	rc.UserAgent = "svcplane-proxy"
	cfg.RESTConfig = rc
	return app.RunProxy(ctx, cfg)
}

// runProxyRules prints the proxy's rules in the namespace it runs in, or
// in a sandboxed node's (--node, --sandbox).
func runProxyRules(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxy rules", flag.ContinueOnError)
	node := fs.String("node", "", "the sandboxed node whose rules to print (default: this network namespace)")
	sandbox := fs.String("sandbox", "svcplane", "the sandbox (cluster) the node belongs to")
	dir := fs.String("netns-dir", "/run/netns", "where network namespaces are mounted")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *node == "" {
		return app.PrintProxyRules(ctx, os.Stdout)
	}
	path := netns.NewDir(*dir).Path(netns.Names{Cluster: *sandbox}.Node(*node))
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("node %s of sandbox %s: no network namespace at %s", *node, *sandbox, path)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "nsenter", "--net="+path, "--", self, "proxy", "rules")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd.Run()
}

// flagOverride keeps the node's own settings given as flags over what a
// followed ConfigMap says, as kube-proxy keeps --hostname-override over
// its --config file (kubeadm's DaemonSet passes the node's name so).
func flagOverride(flags *kpv1.KubeProxyConfiguration) func(*kpv1.KubeProxyConfiguration) {
	host, cidr := flags.HostnameOverride, flags.ClusterCIDR
	return func(kp *kpv1.KubeProxyConfiguration) {
		if host != "" {
			kp.HostnameOverride = host
		}
		if cidr != "" && kp.ClusterCIDR == "" {
			kp.ClusterCIDR = cidr
		}
	}
}
