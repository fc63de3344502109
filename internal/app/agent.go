package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/agent"
	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/agent/container"
	"github.com/svcplane/svcplane/internal/agent/hostport"
	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/imagestore"
	agentruntime "github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/agent/runtime/process"
	"github.com/svcplane/svcplane/internal/agent/runtime/simulated"
	"github.com/svcplane/svcplane/internal/agent/stream"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/pki"
)

// AgentConfig configures `svcplane agent` (and the agent inside `up`).
type AgentConfig struct {
	// RESTConfig reaches the API server.
	RESTConfig *rest.Config
	// Settings of the agent.
	Settings AgentSettings
	// PKIDir, when set, is the cluster's PKI directory; the agent's serving
	// certificate is issued from its CA. Otherwise TLSCertFile and
	// TLSKeyFile are used.
	PKIDir      string
	TLSCertFile string
	TLSKeyFile  string
	// ServingCertificate, when set, gives the serving certificate at each
	// handshake (a joined node's, issued through a CSR and rotated); it
	// wins over PKIDir and the files.
	ServingCertificate func() *tls.Certificate
	// StaticPodLogs returns the log file of a mirror pod's static pod
	// (up's control plane); nil for none.
	StaticPodLogs func(mirrorName string) string
	// Trees, when set, returns the built-in images' trees laid out
	// beforehand (up starts on them before the API server, see
	// layOutTrees); nil lays them out when the agent starts.
	Trees  func() (images.Trees, error)
	Logger *slog.Logger
}

// AgentSettings are the agent's knobs, shared by `up` and `agent`.
type AgentSettings struct {
	// NodeName defaults to the hostname (the sandbox name under up).
	NodeName string
	// NodeIP is the node's InternalIP; found from the routes if empty.
	NodeIP string
	// DataDir keeps the agent's state, under agents/<node>.
	DataDir string
	// Cluster prefixes the names of the namespaces the agent creates.
	Cluster string
	// NetnsDir is where namespaces are mounted (/run/netns).
	NetnsDir string
	// Runtime is "process" (default) or "simulated".
	Runtime string
	// PodCIDR, if set, is used at once; PodCIDRFallback after PodCIDRWait
	// without one assigned by the controllers.
	PodCIDR         string
	PodCIDRFallback string
	PodCIDRWait     time.Duration
	ClusterDNS      string
	ClusterDomain   string
	MaxPods         int
	// NodeLeaseDurationSeconds is the node Lease's duration (40); the
	// agent renews it every quarter of that.
	NodeLeaseDurationSeconds int
	// Busybox is the busybox binary busybox images run (default
	// images.DefaultBusybox, else the host's busybox).
	Busybox string
	// PodMTU is the MTU of the pods' interfaces (0: 1500); a joined node
	// on the VXLAN overlay sets the overlay's (flannel's 1450).
	PodMTU int
	// Address and Port of the agent's HTTPS server (logs, exec, attach);
	// the address defaults to the node IP, the port to 10250.
	Address string
	Port    int
}

func (s AgentSettings) withDefaults() AgentSettings {
	if s.NodeName == "" {
		s.NodeName, _ = os.Hostname()
	}
	if s.DataDir == "" {
		s.DataDir = "/var/lib/svcplane"
	}
	if s.Cluster == "" {
		s.Cluster = "svcplane"
	}
	if s.Runtime == "" {
		s.Runtime = "process"
	}
	if s.ClusterDNS == "" {
		s.ClusterDNS = "10.96.0.10"
	}
	if s.Port == 0 {
		s.Port = 10250
	}
	if s.MaxPods == 0 {
		s.MaxPods = 110
		if s.Runtime == "simulated" {
			s.MaxPods = 100000
		}
	}
	return s
}

// RunAgent runs the agent until ctx ends.
func RunAgent(ctx context.Context, cfg AgentConfig) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	cfg.Settings = cfg.Settings.withDefaults()
	client, err := kubernetes.NewForConfig(cfg.RESTConfig)
	if err != nil {
		return err
	}
	nodeIP, err := resolveNodeIP(cfg.Settings.NodeIP)
	if err != nil {
		return err
	}
	tlsConfig, err := agentTLS(cfg, nodeIP)
	if err != nil {
		return err
	}
	ln, err := listenAgent(cfg.Settings, nodeIP, tlsConfig)
	if err != nil {
		return err
	}
	a, err := newAgent(cfg, client, nodeIP, int32(ln.Addr().(*net.TCPAddr).Port))
	if err != nil {
		ln.Close()
		return err
	}
	go serveStream(ctx, ln, a, cfg.Logger)
	return a.Run(ctx)
}

// newAgent builds the agent with its runtime factory and images.
func newAgent(cfg AgentConfig, client kubernetes.Interface, nodeIP netip.Addr, port int32) (*agent.Agent, error) {
	s := cfg.Settings
	root := filepath.Join(s.DataDir, "agents", s.NodeName)
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the svcplane binary: %w", err)
	}
	treesOf := cfg.Trees
	if treesOf == nil {
		treesOf = layOutTrees(s, self, cfg.Logger)
	}
	trees, err := treesOf()
	if err != nil {
		return nil, err
	}
	store, err := imagestore.Open(filepath.Join(s.DataDir, "images"))
	if err != nil {
		return nil, err
	}
	fallback, _ := parseOptionalPrefix(s.PodCIDRFallback)
	explicit, err := parseOptionalPrefix(s.PodCIDR)
	if err != nil {
		return nil, err
	}
	return agent.New(agent.Config{
		Client: client, NodeName: s.NodeName, NodeIP: nodeIP, Port: port,
		PodCIDR: explicit, PodCIDRFallback: fallback, PodCIDRWait: s.PodCIDRWait,
		NewRuntime:  runtimeFactory(s, root, self, trees, nodeIP, cfg.Logger),
		RuntimeName: s.Runtime, ProbesEnabled: s.Runtime != "simulated", QuietStarts: s.Runtime == "simulated",
		Images: images.NewResolver(images.Config{Trees: trees, Store: storeLookup{store}}), Self: self,
		Leases: storeLeases{store}, VolumeRoot: volumeRoot(s, root),
		NodeImages: func() []corev1.ContainerImage { return nodeImages(store, trees, cfg.Logger) },
		ClusterDNS: []string{s.ClusterDNS}, ClusterDomain: s.ClusterDomain, MaxPods: s.MaxPods,
		LeaseDuration: time.Duration(s.NodeLeaseDurationSeconds) * time.Second,
		StaticPodLogs: cfg.StaticPodLogs, Logger: cfg.Logger,
	}), nil
}

// volumeRoot keeps the pods' volumes (kubelet's pods/<uid>/volumes); the
// simulated runtime mounts none.
func volumeRoot(s AgentSettings, root string) string {
	if s.Runtime == "simulated" {
		return ""
	}
	return filepath.Join(root, "pods")
}

// storeLookup finds imported images for the resolver.
type storeLookup struct{ s *imagestore.Store }

func (l storeLookup) Lookup(ref string) (images.StoredImage, bool, error) {
	img, ok, err := l.s.Get(ref)
	if !ok || err != nil {
		return images.StoredImage{}, false, err
	}
	c := img.Config
	return images.StoredImage{ID: img.ID, Size: img.Size, Layers: img.Layers, Entrypoint: c.Entrypoint, Cmd: c.Cmd, Env: c.Env,
		WorkingDir: c.WorkingDir, User: c.User}, true, nil
}

// storeLeases keeps imported images that containers use.
type storeLeases struct{ s *imagestore.Store }

func (l storeLeases) Lease(holder, ref string) error {
	_, err := l.s.Lease(holder, ref)
	return err
}

func (l storeLeases) Release(holder string) error { return l.s.Release(holder) }

func (l storeLeases) Holders() ([]string, error) {
	leases, err := l.s.Leases()
	if err != nil {
		return nil, err
	}
	return slices.Sorted(maps.Keys(leases)), nil
}

// layOutTrees starts laying out the node's built-in image trees (under
// agents/<node>/images/builtin) and returns a function that waits for
// them. Up starts it first thing: the trees take hundreds of
// milliseconds on a fresh data directory, which then pass while etcd and
// the API server start rather than before the node registers.
func layOutTrees(s AgentSettings, self string, log *slog.Logger) func() (images.Trees, error) {
	dir := filepath.Join(s.DataDir, "agents", s.NodeName, "images", "builtin")
	done := make(chan struct{})
	var trees images.Trees
	var err error
	go func() {
		defer close(done)
		trees, err = prepareTrees(s.Busybox, self, dir, log)
	}()
	return func() (images.Trees, error) {
		<-done
		return trees, err
	}
}

// prepareTrees lays out the built-in images' root filesystems; without
// the static busybox it falls back to the host's, and without any it logs
// that busybox images have no applets.
func prepareTrees(want, self, dir string, log *slog.Logger) (images.Trees, error) {
	if want == "" {
		want = images.DefaultBusybox
	}
	bin, fallback := images.FindBusybox(want)
	switch {
	case bin == "":
		log.Warn("no busybox: busybox images have no applets (run hack/deps.sh)", "want", want)
	case fallback:
		log.Warn("static busybox not found, busybox images run the host's busybox, whose wget -T may crash (run hack/deps.sh)",
			"want", want, "using", bin)
	}
	shell, err := exec.LookPath("busybox")
	if err != nil {
		log.Warn("no host busybox: shells of busybox:1.28 and older run busybox 1.37's nslookup (run hack/deps.sh)")
	}
	trees, err := images.PrepareTrees(images.TreeLayout{Dir: dir, Self: self, Busybox: bin, Shell: shell})
	for name, why := range trees.Missing {
		log.Warn("a built-in image is not available on this node", "image", name, "err", why)
	}
	return trees, err
}

// runtimeFactory picks the runtime: a plain switch, no registration.
func runtimeFactory(s AgentSettings, root, self string, trees images.Trees, nodeIP netip.Addr, log *slog.Logger) func(netip.Prefix) (agentruntime.Runtime, error) {
	return func(cidr netip.Prefix) (agentruntime.Runtime, error) {
		switch s.Runtime {
		case "simulated":
			return simulated.New(simulated.Config{PodCIDR: cidr, NodeIP: nodeIP})
		case "process":
			initBin := initBinary(self)
			cg, err := nodeCgroups(s, root, log)
			if err != nil {
				return nil, err
			}
			return process.New(process.Config{
				Root: filepath.Join(root, "runtime"), SeccompDir: filepath.Join(root, "seccomp"),
				Names:      netns.Names{Cluster: s.Cluster},
				Namespaces: netns.NewDir(s.NetnsDir), Network: netns.Netlink{},
				PodCIDR: cidr, PodMTU: s.PodMTU, NodeIP: nodeIP, Launcher: process.Exec{},
				Cgroups: cg, MemoryCapacity: agent.MemoryBytes(),
				Pause: process.PauseImage{Layers: []string{trees.Pause}, Self: self,
					Argv: []string{container.SelfPath, "image", "pause"}},
				InitArgv: []string{initBin, "internal-init"}, ContainerArgv: []string{initBin, "internal-container"},
				HostPorts: hostPorts(log),
				Logger:    log.With("part", "runtime"),
			})
		}
		return nil, fmt.Errorf("unknown runtime %q (process, simulated)", s.Runtime)
	}
}

// hostPorts maps pods' hostPorts with nftables in the agent's network
// namespace (the node's); without nft, pods run and their hostPorts are
// not mapped.
func hostPorts(log *slog.Logger) process.HostPorts {
	t, err := hostport.Open(netns.BridgeName, log.With("part", "hostports"))
	if err != nil {
		log.Warn("pods' hostPorts are not mapped", "err", err)
		return nil
	}
	return t
}

// initBinary is the program that starts containers: svcplane-init beside
// the svcplane binary (it starts in a few milliseconds, svcplane in tens),
// else svcplane itself.
func initBinary(self string) string {
	p := filepath.Join(filepath.Dir(self), "svcplane-init")
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		return p
	}
	return self
}

// cgroupFile keeps the name of the node's cgroup tree in the agent's
// directory, where `svcplane down` finds it.
const cgroupFile = "cgroup"

// nodeCgroups makes the node's cgroup tree, named for the cluster and the
// node (several agents may share the machine).
func nodeCgroups(s AgentSettings, root string, log *slog.Logger) (*cgroups.Node, error) {
	name := "svcplane-" + s.Cluster + "-" + s.NodeName
	n, err := cgroups.New(cgroups.Config{Name: name})
	if err != nil {
		// Under `ip netns exec`, /sys is the namespace's own and shows no
		// cgroup hierarchies: pods run, without limits.
		log.Warn("no pod cgroups: resource limits are not applied and OOM kills are not reported", "err", err)
		return nil, nil
	}
	if err := os.WriteFile(filepath.Join(root, cgroupFile), []byte(name), 0o644); err != nil {
		return nil, err
	}
	log.Info("pod cgroups", "version", n.Version(), "dirs", n.Dirs())
	return n, nil
}

func parseOptionalPrefix(s string) (netip.Prefix, error) {
	if s == "" {
		return netip.Prefix{}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("pod CIDR %q: %w", s, err)
	}
	return p.Masked(), nil
}

// resolveNodeIP parses the configured node IP, or takes the source
// address of the default route, or loopback.
func resolveNodeIP(s string) (netip.Addr, error) {
	if s != "" {
		ip, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Addr{}, fmt.Errorf("node IP %q: %w", s, err)
		}
		return ip, nil
	}
	// A UDP "connection" sends nothing; it only picks a source address.
	c, err := net.Dial("udp4", "192.0.2.1:9")
	if err != nil {
		return netip.MustParseAddr("127.0.0.1"), nil
	}
	defer c.Close()
	ap, err := netip.ParseAddrPort(c.LocalAddr().String())
	if err != nil {
		return netip.Addr{}, err
	}
	return ap.Addr(), nil
}

// agentTLS returns the agent's server TLS configuration: its serving
// certificate, and the CAs its clients (the API server) must be signed by.
func agentTLS(cfg AgentConfig, nodeIP netip.Addr) (*tls.Config, error) {
	if cfg.ServingCertificate != nil {
		return stream.RotatingTLSConfig(cfg.ServingCertificate, cfg.RESTConfig.CAData), nil
	}
	if cfg.PKIDir != "" {
		b, err := pki.LoadIssuer(cfg.PKIDir)
		if err != nil {
			return nil, err
		}
		cert, err := b.ServingCert(cfg.Settings.NodeName, []net.IP{net.IP(nodeIP.AsSlice()), net.IPv4(127, 0, 0, 1)})
		return stream.ServerTLSConfig(cert, b.CAPEM), err
	}
	if cfg.TLSCertFile == "" {
		return nil, errors.New("the agent needs --pki-dir or --tls-cert-file and --tls-private-key-file")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	return stream.ServerTLSConfig(cert, cfg.RESTConfig.CAData), err
}

func listenAgent(s AgentSettings, nodeIP netip.Addr, tlsConfig *tls.Config) (net.Listener, error) {
	addr := s.Address
	if addr == "" {
		addr = nodeIP.String()
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(s.Port)))
	if err != nil {
		return nil, fmt.Errorf("listen for the agent's server: %w", err)
	}
	return tls.NewListener(ln, tlsConfig), nil
}

func serveStream(ctx context.Context, ln net.Listener, a *agent.Agent, log *slog.Logger) {
	srv := stream.NewServer(stream.Config{Pods: a, Logger: log.With("component", "agent-server")})
	if err := srv.Serve(ctx, ln); err != nil {
		log.Error("agent server stopped", "err", err)
	}
}

// upAgentSettings are the settings of up's own node agent.
func upAgentSettings(cfg UpConfig) AgentSettings {
	st := cfg.Agent
	st.DataDir = orString(st.DataDir, cfg.APIServer.DataDir)
	st.ClusterDomain = orString(st.ClusterDomain, cfg.APIServer.Cluster.ClusterDomain)
	// No pod-CIDR fallback: up runs the node IPAM controller, and a
	// fallback claimed while it is slow could take a CIDR it has just
	// given another node.
	return st.withDefaults()
}

// startAgent runs the node agent of `up` in the background, with the
// node's client certificate and a serving certificate from the cluster
// CA; trees are its built-in images' trees, laid out since up started.
func startAgent(ctx context.Context, s *APIServer, cfg UpConfig, trees func() (images.Trees, error)) error {
	st := upAgentSettings(cfg)
	cert, key, err := s.PKI.NodeCert(st.NodeName)
	if err != nil {
		return err
	}
	rc := &rest.Config{Host: s.URL, UserAgent: "svcplane-agent/" + st.NodeName, QPS: 200, Burst: 400,
		TLSClientConfig: rest.TLSClientConfig{CAData: s.PKI.CAPEM, CertData: cert, KeyData: key}}
	acfg := AgentConfig{RESTConfig: rc, Settings: st, PKIDir: s.PKI.Paths.Dir, Trees: trees, Logger: cfg.Logger.With("component", "agent")}
	if addonsOn(cfg) {
		acfg.StaticPodLogs = staticPodLogs(cfg)
	}
	go func() {
		if err := RunAgent(ctx, acfg); err != nil && ctx.Err() == nil {
			cfg.Logger.Error("agent stopped", "err", err)
		}
	}()
	return nil
}
