package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/kubeconfig"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/pki"
	"github.com/svcplane/svcplane/internal/podnet"
)

// MaxSandboxNodes bounds up --nodes: the nodes' addresses are the
// consecutive addresses of the first one's /24.
const MaxSandboxNodes = 20

// sandboxNode is one node of a sandboxed cluster: its name, its address
// on the fabric, and its network namespace's path.
type sandboxNode struct {
	Name  string
	IP    netip.Prefix
	Netns string
}

// sandboxNodes lists a sandboxed cluster's nodes: the first, which also
// runs the control plane, is named after the sandbox (or --node-name);
// the others <first>-m02, <first>-m03... as minikube names them, at the
// addresses after the first's.
func sandboxNodes(cfg UpConfig) ([]sandboxNode, error) {
	first, err := netip.ParsePrefix(cfg.SandboxNodeIP)
	if err != nil {
		return nil, fmt.Errorf("sandbox node IP %q: %w", cfg.SandboxNodeIP, err)
	}
	n := max(cfg.Nodes, 1)
	if n > MaxSandboxNodes {
		return nil, fmt.Errorf("--nodes %d: at most %d nodes", n, MaxSandboxNodes)
	}
	names, dir := netns.Names{Cluster: cfg.Sandbox}, netns.NewDir(cfg.Agent.NetnsDir)
	name := orString(cfg.Agent.NodeName, cfg.Sandbox)
	out := []sandboxNode{{Name: name, IP: first, Netns: dir.Path(names.Node(cfg.Sandbox))}}
	addr := first.Addr()
	for i := 2; i <= n; i++ {
		addr = addr.Next()
		if !first.Contains(addr.Next()) { // not the broadcast address
			return nil, fmt.Errorf("--nodes %d: %s has no room for them after %s", n, first.Masked(), first.Addr())
		}
		wname := fmt.Sprintf("%s-m%02d", name, i)
		out = append(out, sandboxNode{Name: wname, IP: netip.PrefixFrom(addr, first.Bits()), Netns: dir.Path(names.Node(wname))})
	}
	return out, nil
}

// createSandboxNodes makes every node's namespace and, for more than one
// node, the fabric joining them. It runs in the parent, on the machine.
func createSandboxNodes(cfg UpConfig) ([]sandboxNode, error) {
	nodes, err := sandboxNodes(cfg)
	if err != nil {
		return nil, err
	}
	names, dir := netns.Names{Cluster: cfg.Sandbox}, netns.NewDir(cfg.Agent.NetnsDir)
	for _, n := range nodes {
		if _, err := dir.Create(filepath.Base(n.Netns)); err != nil {
			return nil, err
		}
	}
	if len(nodes) == 1 {
		return nodes, nil
	}
	fabric, err := dir.Create(names.Fabric())
	if err != nil {
		return nil, err
	}
	for _, n := range nodes {
		if err := netns.ConnectFabric(fabric, n.Netns, n.Name); err != nil {
			return nil, err
		}
	}
	return nodes, nil
}

// startWorkerNodes runs, for every node after the first, an agent and a
// proxy inside that node's namespace, as processes of their own (a
// process's threads share one network namespace), and keeps the routes
// between the nodes' pod CIDRs. It runs in the first node's process.
func startWorkerNodes(ctx context.Context, s *APIServer, cfg UpConfig) error {
	nodes, err := sandboxNodes(cfg)
	if err != nil || len(nodes) == 1 {
		return err
	}
	server := "https://" + net.JoinHostPort(nodes[0].IP.Addr().String(), strconv.Itoa(cfg.APIServer.Port))
	for _, n := range nodes[1:] {
		if err := setupWorkerNamespace(n, cfg.Logger); err != nil {
			return err
		}
		if err := startWorker(ctx, s, cfg, n, server); err != nil {
			return err
		}
	}
	rc, err := ComponentRESTConfig(s, "system:svcplane-fabric")
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	go keepPodRoutes(ctx, client, nodes, cfg.Logger.With("component", "fabric"))
	return nil
}

// setupWorkerNamespace gives a worker node its address and the sysctls a
// node needs.
func setupWorkerNamespace(n sandboxNode, log *slog.Logger) error {
	err := netns.Do(n.Netns, func() error {
		if err := netns.SetupSandboxNode(n.IP); err != nil {
			return err
		}
		return setupNodeSysctls(n.Netns, log.With("node", n.Name))
	})
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	return nil
}

// startWorker writes the worker's kubeconfigs (the agent as
// system:node:<name>, the proxy as system:kube-proxy) and starts its two
// processes, which end with ctx.
func startWorker(ctx context.Context, s *APIServer, cfg UpConfig, n sandboxNode, server string) error {
	dir := filepath.Join(orString(cfg.APIServer.DataDir, "/var/lib/svcplane"), "nodes", n.Name)
	agentKC, err := writeComponentKubeconfig(s, filepath.Join(dir, "agent.kubeconfig"), server, pki.NodeUserPrefix+n.Name, []string{pki.NodesGroup})
	if err != nil {
		return err
	}
	proxyKC, err := writeComponentKubeconfig(s, filepath.Join(dir, "proxy.kubeconfig"), server, "system:kube-proxy", []string{pki.MastersGroup})
	if err != nil {
		return err
	}
	st := cfg.Agent.withDefaults()
	agentArgs := []string{"agent", "--kubeconfig", agentKC, "--pki-dir", s.PKI.Paths.Dir,
		"--data-dir", orString(cfg.Agent.DataDir, cfg.APIServer.DataDir), "--node-name", n.Name,
		"--node-ip", n.IP.Addr().String(), "--cluster-name", cfg.Sandbox, "--netns-dir", orString(st.NetnsDir, netns.DefaultDir),
		"--cluster-dns", st.ClusterDNS, "--cluster-domain", orString(st.ClusterDomain, cfg.APIServer.Cluster.ClusterDomain),
		"--runtime", st.Runtime, "--max-pods", strconv.Itoa(st.MaxPods)}
	if st.NodeLeaseDurationSeconds > 0 {
		agentArgs = append(agentArgs, "--node-lease-duration-seconds", strconv.Itoa(st.NodeLeaseDurationSeconds))
	}
	if st.Busybox != "" {
		agentArgs = append(agentArgs, "--busybox", st.Busybox)
	}
	proxyArgs := []string{"proxy", "--kubeconfig", proxyKC, "--hostname-override", n.Name,
		"--cluster-cidr", orString(cfg.Controllers.PodCIDR, "10.244.0.0/16"),
		"--follow-configmap", "kube-system/" + kubeProxyConfigMap, "--iptables-backend", orString(cfg.Proxy.IPTablesBackend, "auto")}
	log := cfg.Logger.With("node", n.Name)
	go superviseNodeProcess(ctx, n, agentArgs, log.With("component", "agent"))
	if !cfg.Proxy.NoProxy && !addonsOn(cfg) {
		go superviseNodeProcess(ctx, n, proxyArgs, log.With("component", "proxy"))
	}
	return nil
}

// writeComponentKubeconfig writes a kubeconfig for user at path, with a
// client certificate from the cluster's CA.
func writeComponentKubeconfig(s *APIServer, path, server, user string, groups []string) (string, error) {
	cert, key, err := s.PKI.ClientCert(user, groups)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	err = kubeconfig.Write(path, kubeconfig.Config{Server: server, User: user, CAData: s.PKI.CAPEM, CertData: cert, KeyData: key})
	return path, err
}

// superviseNodeProcess runs svcplane args inside the node's namespace
// until ctx ends (SIGTERM, then the process's own grace), restarting it
// after a second when it fails, as a service manager would.
func superviseNodeProcess(ctx context.Context, n sandboxNode, args []string, log *slog.Logger) {
	self, err := os.Executable()
	if err != nil {
		log.Error("node process not started", "err", err)
		return
	}
	for ctx.Err() == nil {
		cmd := exec.Command("nsenter", append([]string{"--net=" + n.Netns, "--", self}, args...)...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			log.Error("node process not started", "err", err)
		} else {
			err = waitOrStop(ctx, cmd)
			if ctx.Err() == nil {
				log.Error("node process exited; restarting", "err", err)
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// errStopTimeout says a process had to be killed: it did not stop within
// 30 s of SIGTERM.
var errStopTimeout = errors.New("did not stop within 30s of SIGTERM")

// waitOrStop waits for cmd; when ctx ends first it sends SIGTERM and
// waits up to 30 s more before killing it (errStopTimeout).
func waitOrStop(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		return errStopTimeout
	}
}

// keepPodRoutes programs, in every sandbox node's namespace, a route to
// each other sandbox node's pod CIDR through that node's address on the
// fabric (Flannel's host-gw role), and a VXLAN device whose address and
// MAC the node's Node publishes, through which nodes that joined from
// other machines are reached (flannel's vxlan backend); nodes that joined
// without a VXLAN endpoint are reached with host-gw.
func keepPodRoutes(ctx context.Context, client kubernetes.Interface, nodes []sandboxNode, log *slog.Logger) {
	local := make([]podnet.LocalNode, len(nodes))
	for i, n := range nodes {
		local[i] = podnet.LocalNode{Name: n.Name, IP: n.IP.Addr(), Netns: n.Netns}
	}
	podnet.KeepOverlay(ctx, podnet.OverlayConfig{Client: client, Nodes: local, HostGW: true, Logger: log})
}
