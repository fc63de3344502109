package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/clock"

	"github.com/svcplane/svcplane/internal/proxy"
	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
	"github.com/svcplane/svcplane/internal/proxy/healthcheck"
	"github.com/svcplane/svcplane/internal/proxy/metrics"
)

// proxyObservers connect the sync loop to the proxy's metrics, its
// /healthz and the health check node port servers.
type proxyObservers struct {
	metrics  *metrics.Metrics
	health   *healthcheck.ProxyHealth
	services *healthcheck.ServiceHealth
	families []corev1.IPFamily
	log      *slog.Logger
}

// startProxyServers serves /healthz and /livez at healthzBindAddress and
// /metrics at metricsBindAddress until ctx ends.
func startProxyServers(ctx context.Context, cfg ProxyConfig, nodeIPs []netip.Addr, log *slog.Logger) (*proxyObservers, error) {
	_, sync := proxyconfig.SyncPeriods(cfg.KubeProxy)
	m := metrics.New(nil)
	o := &proxyObservers{
		metrics:  m,
		health:   healthcheck.NewProxyHealth(healthcheck.ProxyHealthConfig{Clock: clock.RealClock{}, Timeout: 2 * sync, Observer: m}),
		families: []corev1.IPFamily{corev1.IPv4Protocol},
		log:      log,
	}
	for _, ip := range nodeIPs {
		if ip.Is6() {
			o.families = append(o.families, corev1.IPv6Protocol)
			break
		}
	}
	o.services = healthcheck.NewServiceHealth(healthcheck.ServiceHealthConfig{Proxy: o.health, Logger: log})
	servers := []struct {
		what, addr string
		serve      func(net.Listener) error
	}{
		{"healthz", cfg.KubeProxy.HealthzBindAddress, func(l net.Listener) error { return healthcheck.Serve(ctx, l, o.health.Handler()) }},
		{"metrics", cfg.KubeProxy.MetricsBindAddress, func(l net.Listener) error { return healthcheck.Serve(ctx, l, m.Handler()) }},
	}
	for _, s := range servers {
		if s.addr == "" {
			continue
		}
		l, err := net.Listen("tcp", s.addr)
		if err != nil {
			return nil, fmt.Errorf("proxy %s server: %w", s.what, err)
		}
		go func() {
			if err := s.serve(l); err != nil && ctx.Err() == nil {
				log.Error("proxy server stopped", "server", s.what, "err", err)
			}
		}()
	}
	go func() { <-ctx.Done(); _ = o.services.Close() }()
	return o, nil
}

func (o *proxyObservers) triggerTime(s *discoveryv1.EndpointSlice) (time.Time, bool) {
	return metrics.TriggerTime(s)
}

func (o *proxyObservers) hooks() proxy.Hooks {
	return proxy.Hooks{Queued: o.queued, Synced: o.synced}
}

func (o *proxyObservers) queued() {
	now := time.Now()
	for _, f := range o.families {
		o.metrics.SyncQueued(f, now)
		o.health.QueuedUpdate(f)
	}
}

func (o *proxyObservers) synced(i proxy.SyncInfo) {
	now := time.Now()
	o.metrics.ObserveSync(i.Family, i.Full, i.Duration)
	for range i.Changes.Services {
		o.metrics.ServiceChanged()
	}
	for range i.Changes.Endpoints {
		o.metrics.EndpointChanged()
	}
	if i.Err != nil {
		return
	}
	o.metrics.SyncSucceeded(i.Family, now)
	o.metrics.ObserveNetworkProgramming(i.Family, now, i.Changes.Triggers...)
	o.metrics.ObserveState(i.State)
	o.health.Updated(i.Family)
	if i.Family != corev1.IPv4Protocol && len(o.families) > 1 {
		return // health check ports answer for the primary family
	}
	ports, local := healthcheck.Targets(i.State)
	if err := o.services.SyncServices(ports); err != nil {
		o.log.Warn("health check node ports", "err", err)
	}
	if err := o.services.SyncEndpoints(local); err != nil {
		o.log.Warn("health check node ports", "err", err)
	}
}
