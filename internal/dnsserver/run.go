// Package dnsserver runs the cluster DNS server: it wires the record index
// (internal/dns/cluster), forwarding and its cache, and the UDP/TCP server
// to an API server, with the health, readiness and metrics endpoints and
// the kube-dns ConfigMap. `svcplane dns`, the small `svcplane-dns` binary
// and `svcplane up` all run it.
package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	svcdns "github.com/svcplane/svcplane/internal/dns"
	"github.com/svcplane/svcplane/internal/dns/cache"
	"github.com/svcplane/svcplane/internal/dns/cluster"
	dnsforward "github.com/svcplane/svcplane/internal/dns/forward"
)

// Config configures the DNS server.
type Config struct {
	// RESTConfig reaches the API server.
	RESTConfig *rest.Config
	// Listen are the addresses served on UDP and TCP ("host:port").
	Listen []string
	// Zone is the cluster domain; TTL the answers' TTL; Pods the pod
	// records mode (disabled, insecure, verified); Autopath completes
	// pods' search paths on the server.
	Zone     string
	TTL      uint32
	Pods     string
	Autopath bool
	// Upstreams answer names outside the cluster (empty: ResolvConf's
	// nameservers); StubDomains forward zones to their own servers. The
	// kube-system/kube-dns ConfigMap's stubDomains and
	// upstreamNameservers replace them while it exists.
	Upstreams   []string
	ResolvConf  string
	StubDomains map[string][]string
	// RecursionFrom are the clients that may have names forwarded;
	// empty allows everyone.
	RecursionFrom []netip.Prefix
	// HealthAddr, ReadyAddr and MetricsAddr serve /health, /ready and
	// /metrics ("" serves none).
	HealthAddr, ReadyAddr, MetricsAddr string
	// Lameduck is how long the server keeps answering once ctx ends,
	// with /ready answering 503 meanwhile (health's `lameduck`): its pod
	// turns not ready and its endpoint terminating, so the proxy moves
	// clients to other replicas before it stops. The pod's
	// terminationGracePeriodSeconds should exceed it (SIGKILL ends it).
	Lameduck time.Duration
	// NoKubeDNSConfigMap leaves the kube-dns ConfigMap alone (CoreDNS,
	// configured from a Corefile, does not read it).
	NoKubeDNSConfigMap bool
	// CacheTTL caps how long forwarded answers are cached (0: an hour).
	CacheTTL time.Duration
	// Refused are the Corefile lines not served; Run logs each and
	// records a Warning event on the server's pod.
	Refused []Refusal
	// OnReady, if set, is called once the caches have synced and every
	// listener serves.
	OnReady func()
	Logger  *slog.Logger
}

// Run runs the cluster DNS server until ctx ends.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	client, err := kubernetes.NewForConfig(cfg.RESTConfig)
	if err != nil {
		return err
	}
	reportRefused(ctx, client, cfg)
	reg := prometheus.NewRegistry()
	c, err := cache.New(cache.Config{Registry: reg, SuccessTTL: cfg.CacheTTL, DenialTTL: cfg.CacheTTL})
	if err != nil {
		return err
	}
	fwd, err := dnsforward.New(dnsforward.Config{Upstreams: cfg.Upstreams, ResolvConf: cfg.ResolvConf, StubDomains: cfg.StubDomains, Cache: c, Logger: cfg.Logger, Registry: reg})
	if err != nil {
		return err
	}
	defer fwd.Close()
	cl := cluster.New(cluster.Config{Client: client, Zone: cfg.Zone, TTL: cfg.TTL, Pods: cfg.Pods, Autopath: cfg.Autopath, Forwarder: fwd, Logger: cfg.Logger})
	started := make(chan struct{})
	srv, err := svcdns.NewServer(svcdns.ServerConfig{
		Addrs: cfg.Listen, Cluster: cl, Forwarder: fwd, RecursionFrom: cfg.RecursionFrom,
		Registry: reg, Logger: cfg.Logger, NotifyStarted: func() { close(started) },
	})
	if err != nil {
		return err
	}
	// Everything serves until Run returns: past ctx's end by the
	// lameduck period.
	serving, stop := context.WithCancel(context.WithoutCancel(ctx))
	defer stop()
	var stopping atomic.Bool
	errc := make(chan error, 4)
	go func() { errc <- cl.Run(serving) }()
	go func() { errc <- srv.Run(serving) }()
	if !cfg.NoKubeDNSConfigMap {
		go watchKubeDNSConfigMap(serving, client, fwd, cfg)
	}
	if err := serveDNSHTTP(serving, cfg, cl, &stopping, reg, errc); err != nil {
		return err
	}
	go notifyDNSReady(serving, cl, started, cfg)
	select {
	case <-ctx.Done():
		lameduck(cfg, &stopping, errc)
		return nil
	case err := <-errc:
		if err == nil {
			err = errors.New("stopped")
		}
		return fmt.Errorf("dns: %w", err)
	}
}

// lameduck keeps answering for cfg.Lameduck with /ready saying 503, or
// until a part of the server stops.
func lameduck(cfg Config, stopping *atomic.Bool, errc <-chan error) {
	if cfg.Lameduck <= 0 {
		return
	}
	stopping.Store(true)
	cfg.Logger.Info("dns: going into lameduck mode: answering while not ready", "for", cfg.Lameduck)
	t := time.NewTimer(cfg.Lameduck)
	defer t.Stop()
	select {
	case <-t.C:
	case err := <-errc:
		cfg.Logger.Error("dns: stopped during lameduck", "err", err)
	}
}

// notifyDNSReady calls cfg.OnReady once the listeners serve and the
// caches have synced, and logs it.
func notifyDNSReady(ctx context.Context, cl *cluster.Cluster, started <-chan struct{}, cfg Config) {
	select {
	case <-ctx.Done():
		return
	case <-started:
	}
	if !waitUntil(ctx, cl.Ready) {
		return
	}
	cfg.Logger.Info("dns ready", "listen", fmt.Sprint(cfg.Listen), "zone", cfg.Zone)
	if cfg.OnReady != nil {
		cfg.OnReady()
	}
}

// serveDNSHTTP serves /health, /ready and /metrics on their addresses.
func serveDNSHTTP(ctx context.Context, cfg Config, cl *cluster.Cluster, stopping *atomic.Bool, reg *prometheus.Registry, errc chan<- error) error {
	for _, h := range []struct {
		addr, path string
		handler    http.Handler
	}{
		{cfg.HealthAddr, "/health", svcdns.HealthHandler()},
		{cfg.ReadyAddr, "/ready", svcdns.ReadyHandler(cl, stopping)},
		{cfg.MetricsAddr, "/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})},
	} {
		if h.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", h.addr)
		if err != nil {
			return fmt.Errorf("dns %s: %w", h.path, err)
		}
		mux := http.NewServeMux()
		mux.Handle(h.path, h.handler)
		srv := &http.Server{Handler: mux}
		go func() {
			<-ctx.Done()
			srv.Close()
		}()
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	return nil
}

// waitUntil polls cond every 100 ms until it holds (true) or ctx ends
// (false).
func waitUntil(ctx context.Context, cond func() bool) bool {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
	return true
}
