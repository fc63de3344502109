// Package app wires svcplane's components into the processes the svcplane
// binary runs: `up` (everything for one node) and one component each.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/apiserver/builtin"
	"github.com/svcplane/svcplane/internal/apiserver/servicealloc"
	"github.com/svcplane/svcplane/internal/bootstraptoken"
	"github.com/svcplane/svcplane/internal/pki"
	"github.com/svcplane/svcplane/internal/satoken"
	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/diskguard"
	"github.com/svcplane/svcplane/internal/storage/etcd"
)

// APIServerConfig configures `svcplane apiserver`.
type APIServerConfig struct {
	// DataDir holds embedded etcd's data, the PKI and kubeconfigs.
	DataDir string
	// BindAddress and Port are where the API is served over HTTPS.
	BindAddress string
	Port        int
	// AdvertiseAddress is the address the kubernetes Service's endpoints
	// list for this server; default the bind address (127.0.0.1 when the
	// bind address is unspecified).
	AdvertiseAddress string
	// EtcdServers, when set, are used instead of an embedded etcd.
	EtcdServers []string
	// CompactionInterval spaces etcd compactions (default 5m).
	CompactionInterval time.Duration
	// Cluster holds the cluster-wide settings.
	Cluster ClusterConfig
	Logger  *slog.Logger
	// ProxyDial, when set, dials the targets of the pods, services and
	// nodes proxy subresources (tests point them at loopback backends).
	ProxyDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// DisableAdmission names admission plugins turned off, as
	// kube-apiserver's --disable-admission-plugins: "ServiceAccount"
	// (tests of the API alone run no serviceaccount controller).
	DisableAdmission []string
	// DefaultNotReadyTolerationSeconds and
	// DefaultUnreachableTolerationSeconds are what DefaultTolerationSeconds
	// admission gives new pods (nil: 300, kube-apiserver's default).
	DefaultNotReadyTolerationSeconds, DefaultUnreachableTolerationSeconds *int64
	// nodeTLS reaches node agents (pods/log, exec, attach).
	nodeTLS *tls.Config
}

// ClusterConfig are the settings every component of a cluster shares.
type ClusterConfig struct {
	ServiceCIDRs  []string
	NodePortRange string
	ClusterDomain string
}

// APIServer is a running API server.
type APIServer struct {
	// URL is where the API is served, e.g. https://127.0.0.1:6443.
	URL string
	// PKI holds the CA and credentials.
	PKI *pki.Bundle
	// AdminKubeconfig is the path of the admin kubeconfig.
	AdminKubeconfig string
	// Storage is where objects are kept (for tests that compact it).
	Storage storage.Store
	// Done closes when the server has stopped; Err then says why.
	Done <-chan struct{}
	err  error
}

// Err returns why the server stopped, once Done is closed.
func (s *APIServer) Err() error { return s.err }

// RunAPIServer runs the API server until ctx ends.
func RunAPIServer(ctx context.Context, cfg APIServerConfig) error {
	s, err := StartAPIServer(ctx, cfg)
	if err != nil {
		return err
	}
	cfg.Logger.Info("API server ready", "url", s.URL, "kubeconfig", s.AdminKubeconfig)
	<-s.Done
	return s.Err()
}

// StartAPIServer starts etcd (embedded unless EtcdServers are given), the
// API server and its bootstrap, and returns once the API answers.
func StartAPIServer(ctx context.Context, cfg APIServerConfig) (*APIServer, error) {
	cfg = cfg.withDefaults()
	serviceIP, err := kubernetesServiceIP(cfg.Cluster.ServiceCIDRs)
	if err != nil {
		return nil, err
	}
	bundle, err := pki.Ensure(filepath.Join(cfg.DataDir, "pki"), pki.Config{ServiceIP: serviceIP,
		ClusterDomain: cfg.Cluster.ClusterDomain, ExtraSANs: extraSANs(cfg), Logger: cfg.Logger.With("component", "pki")})
	if err != nil {
		return nil, err
	}
	if cfg.nodeTLS, err = bundle.KubeletClientTLSConfig(); err != nil {
		return nil, err
	}
	client, closeEtcd, err := openEtcd(ctx, cfg)
	if err != nil {
		return nil, err
	}
	store, err := openStore(ctx, cfg, client)
	if err != nil {
		closeEtcd()
		return nil, err
	}
	tokens, err := newTokens(cfg, bundle, store)
	if err != nil {
		closeEtcd()
		return nil, err
	}
	srv, hooks, err := newServer(ctx, cfg, store, tokens)
	if err != nil {
		closeEtcd()
		return nil, err
	}
	s, err := serve(ctx, cfg, srv, store, bundle, closeEtcd)
	if err != nil {
		return nil, err
	}
	if err := ensureKubernetesService(ctx, s, cfg, hooks); err != nil {
		return nil, err
	}
	return s, nil
}

// newServer builds the API server with the Service allocators, repaired
// against the Services already stored, and claiming every value in
// storage so that API servers sharing it never hand one out twice.
func newServer(ctx context.Context, cfg APIServerConfig, store storage.Store, tokens *satoken.Tokens) (*apiserver.Server, *servicealloc.Hooks, error) {
	cidrs, err := parseCIDRs(cfg.Cluster.ServiceCIDRs)
	if err != nil {
		return nil, nil, err
	}
	hooks, err := servicealloc.New(servicealloc.Config{ServiceCIDRs: cidrs, NodePortRange: cfg.Cluster.NodePortRange,
		Store: store, Logger: cfg.Logger.With("component", "servicealloc")})
	if err != nil {
		return nil, nil, err
	}
	discovery, err := tokens.DiscoveryHandler()
	if err != nil {
		return nil, nil, err
	}
	var srv *apiserver.Server
	bearer := &bootstraptoken.Authenticator{Next: tokens, Secrets: func(ctx context.Context, ns, name string) (*corev1.Secret, error) {
		return tokens.Objects().Secret(ctx, ns, name)
	}}
	bcfg := builtin.Config{Service: hooks.ServiceConfig(), ServiceHooks: hooks, Tokens: bearer,
		RBACHooks: apiserver.EscalationHooks(func() *apiserver.Server { return srv })}
	bcfg.PodHooks = podAdmission(cfg, func() *apiserver.Server { return srv })
	bcfg.ClaimHooks, bcfg.VolumeHooks = claimAdmission(cfg, func() *apiserver.Server { return srv }), volumeAdmission(cfg)
	resources := builtin.Resources(bcfg)
	srv, err = apiserver.New(apiserver.Config{Storage: store, Resources: resources, Logger: cfg.Logger.With("component", "apiserver"),
		NodeTLS: cfg.nodeTLS, ProxyDial: cfg.ProxyDial, Tokens: bearer, TokenIssuer: tokens, TokenObjects: tokens.Objects(), IssuerDiscovery: discovery,
		Authorization: true})
	if err != nil {
		return nil, nil, err
	}
	listServices := servicealloc.ListServices(srv.Objects)
	conflicts, err := hooks.Repair(ctx, listServices)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range conflicts {
		cfg.Logger.Error("service allocation conflict", "conflict", c.String())
	}
	go hooks.Run(ctx, listServices)
	return srv, hooks, nil
}

func parseCIDRs(in []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range in {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("service CIDR %q: %w", s, err)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (cfg APIServerConfig) withDefaults() APIServerConfig {
	if cfg.DataDir == "" {
		cfg.DataDir = "/var/lib/svcplane"
	}
	if cfg.BindAddress == "" {
		cfg.BindAddress = "127.0.0.1"
	}
	if cfg.CompactionInterval == 0 {
		cfg.CompactionInterval = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Cluster.ClusterDomain == "" {
		cfg.Cluster.ClusterDomain = "cluster.local"
	}
	return cfg
}

// extraSANs are the addresses the serving certificate must also name:
// the bind and advertise addresses, when specific.
func extraSANs(cfg APIServerConfig) []string {
	var out []string
	for _, a := range []string{cfg.BindAddress, cfg.AdvertiseAddress} {
		if a != "" && a != "0.0.0.0" && a != "::" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// openStore is the Store over client; with the embedded etcd, guarded
// against a full disk (see diskguard): writes are refused with 507 while
// the data directory is nearly full, and resume when space returns.
func openStore(ctx context.Context, cfg APIServerConfig, client *clientv3.Client) (storage.Store, error) {
	store, err := etcd.New(etcd.Config{Client: client})
	if err != nil || len(cfg.EtcdServers) > 0 {
		return store, err
	}
	log := cfg.Logger.With("component", "diskguard")
	dir := filepath.Join(cfg.DataDir, "etcd")
	g, err := diskguard.New(diskguard.Config{Store: store, Dir: dir, Logger: log, Preallocate: []string{etcd.DatabasePath(dir)},
		OnRecover: func(ctx context.Context) {
			if err := etcd.DisarmNoSpace(ctx, client, log); err != nil {
				log.Warn("etcd alarms", "err", err)
			}
		}})
	if err != nil {
		return nil, err
	}
	go g.Run(ctx)
	return g, nil
}

// openEtcd connects to the external cluster, or starts the embedded member.
func openEtcd(ctx context.Context, cfg APIServerConfig) (*clientv3.Client, func(), error) {
	if len(cfg.EtcdServers) > 0 {
		c, err := etcd.Dial(ctx, cfg.EtcdServers, nil)
		if err != nil {
			return nil, nil, err
		}
		return c, func() { _ = c.Close() }, nil
	}
	e, err := etcd.StartEmbedded(ctx, etcd.EmbeddedConfig{DataDir: filepath.Join(cfg.DataDir, "etcd"), Logger: cfg.Logger.With("component", "etcd")})
	if err != nil {
		return nil, nil, err
	}
	return e.Client(), func() { _ = e.Close() }, nil
}

// serve listens, runs the server and its background work, bootstraps the
// cluster objects and writes the admin kubeconfig.
func serve(ctx context.Context, cfg APIServerConfig, srv *apiserver.Server, store storage.Store, bundle *pki.Bundle, closeEtcd func()) (*APIServer, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(cfg.BindAddress, strconv.Itoa(cfg.Port)))
	if err != nil {
		closeEtcd()
		return nil, fmt.Errorf("listen for the API: %w", err)
	}
	tlsLn := tls.NewListener(ln, bundle.ServerTLSConfig())
	done := make(chan struct{})
	s := &APIServer{URL: "https://" + hostPort(cfg.BindAddress, ln.Addr()), PKI: bundle, Done: done, Storage: store}
	runCtx, cancel := context.WithCancel(ctx)
	// Requests are not cut when ctx ends: shutdown drains them (see
	// shutdown), and ends them only after the grace period.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 30 * time.Second,
		BaseContext: func(net.Listener) context.Context { return reqCtx }}
	go srv.Run(runCtx)
	endpointsDone := make(chan struct{})
	go func() {
		defer close(endpointsDone)
		srv.RunKubernetesEndpoints(runCtx, apiserver.EndpointsConfig{Address: advertiseAddress(cfg), Port: int32(ln.Addr().(*net.TCPAddr).Port)})
	}()
	go func() {
		_ = storage.RunCompactor(runCtx, storage.CompactorConfig{Store: store, Interval: cfg.CompactionInterval, Logger: cfg.Logger.With("component", "compactor")})
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(tlsLn) }()
	// As kube-apiserver's first line of serving (its mirror pod's log).
	cfg.Logger.Info("Serving securely on "+ln.Addr().String(), "component", "apiserver")
	go func() {
		// Stop when asked, or when serving fails; s.err is set before Done
		// closes, so Err is safe to read after it.
		select {
		case <-ctx.Done():
		case err := <-serveErr:
			if !errors.Is(err, http.ErrServerClosed) {
				s.err = err
			}
		}
		drain(cfg.Logger, srv, hs, cancelRequests)
		cancel()
		<-endpointsDone
		closeEtcd()
		close(done)
	}()
	if err := bootstrap(ctx, s, cfg); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

func advertiseAddress(cfg APIServerConfig) netip.Addr {
	for _, s := range []string{cfg.AdvertiseAddress, cfg.BindAddress} {
		if a, err := netip.ParseAddr(s); err == nil && !a.IsUnspecified() {
			return a
		}
	}
	return netip.MustParseAddr("127.0.0.1")
}

// ShutdownGracePeriod is how long in-flight requests may run on after the
// API server is asked to stop.
const ShutdownGracePeriod = 5 * time.Second

// drain stops the API cleanly, as kube-apiserver does: watches end with a
// normal close (clients re-watch elsewhere without an error), the listener
// closes, and requests in flight run on, with storage still up, for up to
// ShutdownGracePeriod; those still running then are cancelled.
func drain(log *slog.Logger, srv *apiserver.Server, hs *http.Server, cancelRequests context.CancelFunc) {
	srv.Drain()
	sctx, scancel := context.WithTimeout(context.Background(), ShutdownGracePeriod)
	defer scancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("requests still in flight after the shutdown grace period are cancelled", "grace", ShutdownGracePeriod)
	}
	cancelRequests()
	_ = hs.Close()
}

func hostPort(bind string, addr net.Addr) string {
	_, port, _ := net.SplitHostPort(addr.String())
	if bind == "0.0.0.0" || bind == "" {
		bind = "127.0.0.1"
	}
	if bind == "::" {
		bind = "::1"
	}
	return net.JoinHostPort(bind, port)
}
