package main

import (
	"context"
	"errors"
	"flag"
	"strings"

	"github.com/svcplane/svcplane/internal/app"
)

// runJoin is `svcplane join https://<server>:6443 --token <id.secret>
// --discovery-token-ca-cert-hash sha256:<hex>`: this machine becomes a
// node of that cluster, as with kubeadm join.
func runJoin(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("join", flag.ContinueOnError)
	var cfg app.JoinConfig
	agentFlags(fs, &cfg.Agent)
	fs.StringVar(&cfg.Discovery.Token, "token", "", "bootstrap token (svcplane token create prints it)")
	fs.Func("discovery-token-ca-cert-hash", "sha256:<hex> pin of the cluster CA's public key (repeatable)", func(v string) error {
		cfg.Discovery.CAHashes = append(cfg.Discovery.CAHashes, v)
		return nil
	})
	fs.BoolVar(&cfg.Discovery.UnsafeSkipCAVerification, "discovery-token-unsafe-skip-ca-verification", false, "trust the cluster CA without a pin (the token's signature only)")
	fs.StringVar(&cfg.Agent.DataDir, "data-dir", "/var/lib/svcplane", "directory for the node's credentials (join/<node>) and agent state")
	fs.StringVar(&cfg.Agent.Cluster, "cluster-name", "svcplane", "prefix of the namespaces the agent creates (sp-<name>-...)")
	fs.StringVar(&cfg.ProxyMode, "proxy-mode", "iptables", "proxy mode: iptables, nftables, ipvs or userspace")
	fs.StringVar(&cfg.IPTablesBackend, "iptables-backend", "auto", "iptables backend of the proxy: legacy, nft or auto")
	fs.BoolVar(&cfg.NoProxy, "no-proxy", false, "run no proxy on the node")
	fs.StringVar(&cfg.ClusterCIDR, "cluster-cidr", "10.244.0.0/16", "the cluster's pod network")
	fs.StringVar(&cfg.PodNetwork, "pod-network", "vxlan", "how pod traffic reaches other nodes: vxlan (an overlay, as flannel's vxlan backend), host-gw (routes via their InternalIPs, on one L2 segment) or none")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	server, rest := splitServerArg(args)
	if err := fs.Parse(rest); err != nil {
		return err
	}
	if server == "" && fs.NArg() > 0 {
		server = fs.Arg(0)
	}
	if server == "" || cfg.Discovery.Token == "" {
		return errors.New("usage: svcplane join https://<server>:<port> --token <id.secret> --discovery-token-ca-cert-hash sha256:<hex>")
	}
	if !strings.Contains(server, "://") {
		server = "https://" + server
	}
	cfg.Discovery.Server = server
	cfg.Logger = newLogger(*level)
	return app.RunJoin(ctx, cfg)
}

// splitServerArg takes a leading server argument off, as kubeadm join
// takes it before its flags.
func splitServerArg(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}
