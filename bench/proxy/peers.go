package main

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// The peer table runs svcplane's proxy and upstream kube-proxy as
// programs, one after the other in a fresh node namespace each, against
// one svcplane API server holding the bench's Services: the same flags,
// the same objects, the same measurements. Both serve kube-proxy's
// metrics; a sync's duration is what kubeproxy_sync_proxy_rules_duration_seconds
// says it took.

// peer is a proxy program the bench runs.
type peer struct {
	name string
	bin  string
	sub  []string // arguments before the flags: svcplane's subcommand
	err  error    // why it cannot run
	// env is added for a mode (kube-proxy finds the iptables variant
	// on PATH); extra are flags only this program has.
	env   func(m mode) []string
	extra func(m mode) []string
}

// peerResult is one peer in one mode at one size.
type peerResult struct {
	full       outcome       // the first sync as the metric times it; cpu: the process's
	ready      time.Duration // from the process's start to that sync done
	partial    []time.Duration
	programmed []time.Duration // from the API write to the sync done
	partialOut outcome
	rss, peak  int64
	packets    packets
	packetsOut outcome
}

// peerBench is the API server, its client and the results.
type peerBench struct {
	b       *bench
	dir     string
	srv     *app.APIServer
	apiAddr string // host:port of the API on the host's loopback
	client  kubernetes.Interface
	c       *cluster // the largest size's objects
	have    int      // Services created so far
	peers   []*peer
	results map[string]*peerResult
}

// peerIP is Service i's ClusterIP in the peer table: 10.96.0.0 + i + 2,
// since the API server's `kubernetes` Service holds 10.96.0.1.
func peerIP(i int) netip.Addr { return addrPlus(serviceBase, i+2) }

// runPeers measures every peer in every mode of ms at every size.
func (b *bench) runPeers(ctx context.Context, ms []mode) error {
	pb, err := startPeerBench(ctx, b)
	if err != nil {
		return err
	}
	defer pb.close()
	b.peerResults = pb.results
	for _, n := range b.cfg.sizes {
		if err := pb.grow(ctx, n); err != nil {
			return err
		}
		for _, m := range ms {
			for _, p := range pb.peers {
				pb.results[peerKey(p.name, m, n)] = pb.measure(ctx, p, m, n)
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		}
	}
	return nil
}

func peerKey(peer string, m mode, n int) string { return fmt.Sprintf("%s|%s|%d", peer, m.name, n) }

func startPeerBench(ctx context.Context, b *bench) (*peerBench, error) {
	dir, err := os.MkdirTemp("", "svcplane-bench-peers")
	if err != nil {
		return nil, err
	}
	pb := &peerBench{b: b, dir: dir, c: newCluster(b.cfg.largest()), results: map[string]*peerResult{}}
	pb.srv, err = app.StartAPIServer(ctx, app.APIServerConfig{DataDir: filepath.Join(dir, "api"), Port: 0,
		Logger: benchutil.Quiet(), DisableAdmission: []string{"ServiceAccount"}})
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("API server: %w", err)
	}
	u, err := url.Parse(pb.srv.URL)
	if err != nil {
		pb.close()
		return nil, err
	}
	pb.apiAddr = u.Host
	rc, err := kubeconfig.RESTConfig(pb.srv.AdminKubeconfig)
	if err != nil {
		pb.close()
		return nil, err
	}
	rc.QPS, rc.Burst = 100000, 100000
	if pb.client, err = kubernetes.NewForConfig(rc); err != nil {
		pb.close()
		return nil, err
	}
	if err := pb.setup(ctx); err != nil {
		pb.close()
		return nil, err
	}
	pb.peers = []*peer{svcplanePeer(ctx, b.cfg, dir), kubeProxyPeer(ctx, b.cfg, dir)}
	for _, p := range pb.peers {
		if p.err != nil {
			fmt.Fprintf(os.Stderr, "peers: %s will not run: %v\n", p.name, p.err)
		}
	}
	return pb, nil
}

// close removes the API server's data; the server stops with the run's
// context.
func (pb *peerBench) close() { os.RemoveAll(pb.dir) }

// setup creates the bench's namespace and its Node, with the node
// namespace's address, as a kubelet registers it.
func (pb *peerBench) setup(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
	if _, err := pb.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		return err
	}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: nodeName, Labels: map[string]string{"kubernetes.io/hostname": nodeName}}}
	node, err := pb.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	node.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeIP.String()}, {Type: corev1.NodeHostName, Address: nodeName}}
	node.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now()}}
	_, err = pb.client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	return err
}

// grow creates Services and their slices up to n.
func (pb *peerBench) grow(ctx context.Context, n int) error {
	if n <= pb.have {
		return nil
	}
	start, from := time.Now(), pb.have
	err := benchutil.ParallelErr(n-from, 16, func(k int) error {
		i := from + k
		svc := pb.c.services[i].DeepCopy()
		ip := peerIP(i).String()
		svc.Spec.ClusterIP, svc.Spec.ClusterIPs = ip, []string{ip}
		if _, err := pb.client.CoreV1().Services(namespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			return err
		}
		_, err := pb.client.DiscoveryV1().EndpointSlices(namespace).Create(ctx, pb.c.slices[i].DeepCopy(), metav1.CreateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("peers: create %d Services: %w", n, err)
	}
	pb.have = n
	fmt.Fprintf(os.Stderr, "peers: %s created in the API in %s\n", services(n), human(time.Since(start)))
	return nil
}

// change replaces one endpoint of one of the first n Services in the API.
func (pb *peerBench) change(ctx context.Context, n int) error {
	i, s := pb.c.replaceAmong(n)
	cur, err := pb.client.DiscoveryV1().EndpointSlices(namespace).Get(ctx, s.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	cur.Endpoints, cur.Annotations = s.Endpoints, s.Annotations
	_, err = pb.client.DiscoveryV1().EndpointSlices(namespace).Update(ctx, cur, metav1.UpdateOptions{})
	if err != nil {
		return fmt.Errorf("update %s: %w", serviceName(i), err)
	}
	return nil
}

// peerArgs are the flags both programs get: kube-proxy's, with the
// bench's cluster CIDR, and the machine's conntrack table size left alone
// (it is not per network namespace).
func peerArgs(kubeconfig string, m mode) []string {
	return []string{"--kubeconfig", kubeconfig, "--hostname-override", nodeName, "--proxy-mode", m.proxyMode(),
		"--cluster-cidr", clusterCIDR.String(), "--conntrack-max-per-core", "0",
		"--metrics-bind-address", metricsAddr, "--healthz-bind-address", "127.0.0.1:10256"}
}

// proxyMode is the --proxy-mode of a bench mode.
func (m mode) proxyMode() string {
	if strings.HasPrefix(m.flag, "iptables") {
		return "iptables"
	}
	return m.flag
}

// iptablesVariant is legacy or nft for the iptables modes, else "".
func (m mode) iptablesVariant() string {
	v, ok := strings.CutPrefix(m.flag, "iptables-")
	if !ok {
		return ""
	}
	return v
}

// svcplanePeer builds `svcplane` (unless -svcplane-bin names it).
func svcplanePeer(ctx context.Context, cfg config, dir string) *peer {
	p := &peer{name: "svcplane proxy", bin: cfg.svcplaneBin, sub: []string{"proxy"},
		env: func(mode) []string { return nil },
		extra: func(m mode) []string {
			if v := m.iptablesVariant(); v != "" {
				return []string{"--iptables-backend", v}
			}
			return nil
		}}
	if p.bin == "" {
		p.bin = filepath.Join(dir, "svcplane")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", p.bin, "github.com/svcplane/svcplane/cmd/svcplane").CombinedOutput()
		if err != nil {
			p.err = fmt.Errorf("go build: %w: %s", err, firstLines(string(out), 5))
		}
	}
	return p
}

// kubeProxyPeer builds upstream kube-proxy with hack/upstream/build.sh
// (unless -kube-proxy-bin names it). Its iptables mode runs `iptables`
// from PATH: a directory of links to the mode's variant comes first.
func kubeProxyPeer(ctx context.Context, cfg config, dir string) *peer {
	p := &peer{name: "kube-proxy", bin: cfg.kubeProxyBin,
		extra: func(mode) []string { return nil }}
	shims := map[string]string{}
	p.env = func(m mode) []string {
		if d := shims[m.iptablesVariant()]; d != "" {
			return []string{"PATH=" + d + ":" + os.Getenv("PATH")}
		}
		return nil
	}
	for _, v := range []string{"legacy", "nft"} {
		d, err := iptablesShim(dir, v)
		if err != nil {
			p.err = err
			return p
		}
		shims[v] = d
	}
	if p.bin == "" {
		if p.bin, p.err = buildUpstream(ctx, "kube-proxy"); p.err != nil {
			return p
		}
	}
	// "Kubernetes v1.32.4"
	out, err := exec.CommandContext(ctx, p.bin, "--version").Output()
	if err != nil {
		p.err = fmt.Errorf("%s --version: %w", p.bin, err)
		return p
	}
	if f := strings.Fields(string(out)); len(f) == 2 {
		p.name += " " + f[1]
	}
	return p
}

// iptablesShim makes dir/iptables-VARIANT holding iptables, ip6tables
// and their -save and -restore as links to that variant's tools.
func iptablesShim(dir, variant string) (string, error) {
	d := filepath.Join(dir, "iptables-"+variant)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", err
	}
	for _, tool := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
		base, suffix, _ := strings.Cut(tool, "-")
		name := base + "-" + variant
		if suffix != "" {
			name += "-" + suffix
		}
		target, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("kube-proxy's %s: %w", tool, err)
		}
		if err := os.Symlink(target, filepath.Join(d, tool)); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
	}
	return d, nil
}

// buildUpstream runs hack/upstream/build.sh TARGET from the module's root
// and returns the path it prints.
func buildUpstream(ctx context.Context, target string) (string, error) {
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	script := filepath.Join(filepath.Dir(strings.TrimSpace(string(gomod))), "hack", "upstream", "build.sh")
	fmt.Fprintf(os.Stderr, "peers: %s %s (minutes when not cached)\n", script, target)
	cmd := exec.CommandContext(ctx, script, target)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", script, target, err, firstLines(lastLines(stderr.String(), 5), 5))
	}
	return strings.TrimSpace(string(out)), nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
