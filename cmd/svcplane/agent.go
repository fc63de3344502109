package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// agentFlags binds the agent's flags to s.
func agentFlags(fs *flag.FlagSet, s *app.AgentSettings) {
	fs.StringVar(&s.NodeName, "node-name", "", "name of the node (default: the hostname; the sandbox name under up --sandbox)")
	fs.StringVar(&s.NodeIP, "node-ip", "", "the node's InternalIP (default: the address of the default route)")
	fs.StringVar(&s.Runtime, "runtime", "process", "how pods run: process (network namespaces and processes) or simulated (IPs only, for scale tests)")
	fs.StringVar(&s.PodCIDR, "pod-cidr", "", "pod CIDR to give the node when it has none (standalone use; default: wait for the node IPAM controller)")
	fs.StringVar(&s.ClusterDNS, "cluster-dns", "", "DNS server pods with dnsPolicy ClusterFirst use (default 10.96.0.10; under up, the 10th address of the service CIDR, as kubeadm)")
	fs.StringVar(&s.ClusterDomain, "cluster-domain", "cluster.local", "the cluster's DNS domain")
	fs.StringVar(&s.NetnsDir, "netns-dir", "/run/netns", "where network namespaces are mounted")
	fs.IntVar(&s.MaxPods, "max-pods", 0, "pods the node reports it can hold (default 110; 100000 when simulated)")
	fs.IntVar(&s.NodeLeaseDurationSeconds, "node-lease-duration-seconds", 40, "duration of the node's Lease in kube-node-lease; the agent renews it every quarter of that (kubelet's nodeLeaseDurationSeconds)")
	fs.StringVar(&s.Busybox, "busybox", envOr("SVCPLANE_BUSYBOX", images.DefaultBusybox),
		"busybox binary whose applets busybox images run ($SVCPLANE_BUSYBOX; hack/deps.sh installs it; the host's busybox if missing)")
	fs.IntVar(&s.Port, "agent-port", 10250, "port of the agent's HTTPS server (logs, exec, attach)")
}

func runAgent(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	var cfg app.AgentConfig
	agentFlags(fs, &cfg.Settings)
	fs.StringVar(&cfg.Settings.DataDir, "data-dir", "/var/lib/svcplane", "directory for the agent's state (under agents/<node>)")
	fs.StringVar(&cfg.Settings.Cluster, "cluster-name", "svcplane", "prefix of the namespaces the agent creates (sp-<name>-...)")
	fs.StringVar(&cfg.Settings.Address, "address", "", "address of the agent's HTTPS server (default: the node IP)")
	fs.StringVar(&cfg.PKIDir, "pki-dir", "", "the cluster's PKI directory, to issue the agent's serving certificate from its CA")
	fs.StringVar(&cfg.TLSCertFile, "tls-cert-file", "", "serving certificate (when --pki-dir is not given)")
	fs.StringVar(&cfg.TLSKeyFile, "tls-private-key-file", "", "serving certificate's key")
	kc := fs.String("kubeconfig", "", "kubeconfig of the API server to use")
	qps := fs.Float64("kube-api-qps", 200, "requests per second to the API server (burst twice that)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rc, err := kubeconfig.RESTConfig(*kc)
	if err != nil {
		return err
	}
	rc.QPS, rc.Burst = float32(*qps), int(*qps*2)
	cfg.RESTConfig = rc
	cfg.Logger = newLogger(*level)
	return app.RunAgent(ctx, cfg)
}

// upAgentFlags binds the agent and sandbox flags of `up`; args is the
// command line, which a sandboxed up runs again inside its namespace.
func upAgentFlags(fs *flag.FlagSet, cfg *app.UpConfig, args []string) {
	agentFlags(fs, &cfg.Agent)
	fs.StringVar(&cfg.Sandbox, "sandbox", "", "run the node in a new network namespace of this name (sp-<name>-...); kubectl still reaches the API on the host's 127.0.0.1")
	fs.StringVar(&cfg.SandboxNodeIP, "sandbox-node-ip", app.DefaultSandboxNodeIP, "the sandboxed node's address (inside its namespace)")
	fs.IntVar(&cfg.Nodes, "nodes", 1, fmt.Sprintf("with --sandbox: how many nodes to run (at most %d), each in its own network namespace, joined by a bridge; the first also runs the control plane", app.MaxSandboxNodes))
	fs.BoolVar(&cfg.NoAgent, "no-agent", false, "run no node agent (and so no proxy)")
	fs.StringVar(&cfg.Proxy.Mode, "proxy-mode", "iptables", "proxy mode: iptables, nftables, ipvs (iptables where the kernel has no IPVS) or userspace; written to the kube-system/kube-proxy ConfigMap")
	fs.StringVar(&cfg.Proxy.IPTablesBackend, "iptables-backend", "auto", "iptables backend of the proxy: legacy, nft or auto")
	fs.BoolVar(&cfg.Proxy.NoProxy, "no-proxy", false, "run no proxy on the node")
	fs.BoolVar(&cfg.DNS.NoDNS, "no-dns", false, "run no cluster DNS server on the node")
	fs.BoolVar(&cfg.NoAddons, "no-addons", false, "run the proxy and the DNS server inside svcplane rather than as kube-system pods (the kube-proxy DaemonSet and coredns Deployment, which it then removes)")
	fs.Func("dns-upstream", "DNS server for names outside the cluster (repeatable or comma-separated; default: the node's resolv.conf)", func(v string) error {
		cfg.DNS.Upstreams = append(cfg.DNS.Upstreams, splitList(v)...)
		return nil
	})
	fs.IntVar(&cfg.UI.Port, "ui-port", app.DefaultUIPort, "port of the live view on 127.0.0.1 (0: any free port; another when the default is taken)")
	fs.BoolFunc("no-ui", "serve no live view", func(v string) error {
		off, err := strconv.ParseBool(v)
		cfg.UI.Serve = !off
		return err
	})
	cfg.UI.Serve = true
	cfg.Args = append([]string{"up"}, args...)
}

// envOr is the environment variable key, or def when it is unset.
func envOr(key, def string) string {
	if v, ok := os.LookupEnv(key); ok && v != "" {
		return v
	}
	return def
}
