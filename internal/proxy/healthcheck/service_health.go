package healthcheck

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"

	"k8s.io/apimachinery/pkg/types"
)

// ProxyHealthChecker reports the proxy's own health; *ProxyHealth is one.
type ProxyHealthChecker interface {
	Healthy() bool
}

// ServiceHealthConfig configures a ServiceHealth.
type ServiceHealthConfig struct {
	// Listen opens a listener; nil means net.Listen. Tests pass their own.
	Listen func(network, addr string) (net.Listener, error)
	// Addresses are the node addresses to listen on (the resolved
	// nodePortAddresses); empty means every address.
	Addresses []netip.Addr
	// Proxy, if set, makes every answer 503 while the proxy is unhealthy.
	Proxy ProxyHealthChecker
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// ServiceHealth runs the health check node port servers of the Services
// with externalTrafficPolicy: Local. It is safe for concurrent use.
type ServiceHealth struct {
	cfg ServiceHealthConfig

	mu       sync.RWMutex
	services map[types.NamespacedName]*serviceServer
}

type serviceServer struct {
	port      uint16
	servers   []*http.Server
	endpoints int
}

// NewServiceHealth returns a ServiceHealth serving nothing yet.
func NewServiceHealth(cfg ServiceHealthConfig) *ServiceHealth {
	if cfg.Listen == nil {
		cfg.Listen = net.Listen
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &ServiceHealth{cfg: cfg, services: map[types.NamespacedName]*serviceServer{}}
}

// SyncServices makes services (name -> healthCheckNodePort) the served set:
// servers of Services gone or moved to another port are closed, new ones
// opened, unchanged ones left alone. A port that cannot be opened is
// reported in the returned error and retried on the next call; the other
// Services are still served.
func (s *ServiceHealth) SyncServices(services map[types.NamespacedName]uint16) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, svc := range s.services {
		if port, ok := services[name]; !ok || port != svc.port {
			s.cfg.Logger.Debug("closing health check", "service", name, "port", svc.port)
			svc.close()
			delete(s.services, name)
		}
	}
	var errs []error
	for name, port := range services {
		if s.services[name] != nil {
			continue
		}
		svc, err := s.open(name, port)
		if err != nil {
			errs = append(errs, fmt.Errorf("health check %s on port %d: %w", name, port, err))
			continue
		}
		s.cfg.Logger.Debug("opened health check", "service", name, "port", port)
		s.services[name] = svc
	}
	return errors.Join(errs...)
}

// open listens on every address, closing what it opened on failure.
func (s *ServiceHealth) open(name types.NamespacedName, port uint16) (*serviceServer, error) {
	hosts := []string{""}
	if len(s.cfg.Addresses) > 0 {
		hosts = hosts[:0]
		for _, a := range s.cfg.Addresses {
			hosts = append(hosts, a.String())
		}
	}
	svc := &serviceServer{port: port}
	for _, host := range hosts {
		l, err := s.cfg.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(int(port))))
		if err != nil {
			svc.close()
			return nil, err
		}
		srv := &http.Server{Handler: s.handler(name)}
		svc.servers = append(svc.servers, srv)
		go s.serve(srv, l, name)
	}
	return svc, nil
}

func (s *ServiceHealth) serve(srv *http.Server, l net.Listener, name types.NamespacedName) {
	if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.cfg.Logger.Error("health check server stopped", "service", name, "address", l.Addr(), "err", err)
	}
}

func (svc *serviceServer) close() {
	for _, srv := range svc.servers {
		_ = srv.Close() // Close only reports listener close errors; nothing to do
	}
}

// SyncEndpoints sets the number of local endpoints of every served Service;
// Services missing from endpoints have none.
func (s *ServiceHealth) SyncEndpoints(endpoints map[types.NamespacedName]int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, svc := range s.services {
		svc.endpoints = endpoints[name]
	}
	return nil
}

// Close stops every server.
func (s *ServiceHealth) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for name, svc := range s.services {
		svc.close()
		delete(s.services, name)
	}
	return nil
}

func (s *ServiceHealth) handler(name types.NamespacedName) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.RLock()
		svc := s.services[name]
		count := 0
		if svc != nil {
			count = svc.endpoints
		}
		s.mu.RUnlock()
		proxyHealthy := s.cfg.Proxy == nil || s.cfg.Proxy.Healthy()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("X-Load-Balancing-Endpoint-Weight", strconv.Itoa(count))
		if count > 0 && proxyHealthy {
			w.WriteHeader(http.StatusOK)
		} else {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = fmt.Fprint(w, serviceBody(name, count, proxyHealthy))
	})
}

// serviceBody is the answer's JSON, laid out as kube-proxy lays it out.
func serviceBody(name types.NamespacedName, count int, proxyHealthy bool) string {
	return fmt.Sprintf("{\n\t\"service\": {\n\t\t\"namespace\": %q,\n\t\t\"name\": %q\n\t},\n"+
		"\t\"localEndpoints\": %d,\n\t\"serviceProxyHealthy\": %v\n}",
		name.Namespace, name.Name, count, proxyHealthy)
}
