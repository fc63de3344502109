// Package apiserver is svcplane's Kubernetes-compatible API server: the
// REST layer (get, list, watch, create, update, patch, delete, status and
// scale subresources, Tables), discovery, OpenAPI, authentication by client
// certificate, and metrics. Objects live in a storage.Store; each resource
// has a watch cache that fans one storage watch out to all watchers.
package apiserver

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/client-go/applyconfigurations"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
	"github.com/svcplane/svcplane/internal/apiserver/codec"
	"github.com/svcplane/svcplane/internal/apiserver/discovery"
	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/apiserver/openapi"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/watchcache"
	"github.com/svcplane/svcplane/internal/satoken"
	"github.com/svcplane/svcplane/internal/storage"
)

// Config is what an API server serves and where it keeps it.
type Config struct {
	Storage   storage.Store
	Resources []*registry.Resource
	Logger    *slog.Logger
	// Anonymous lets requests without a client certificate through (tests
	// that serve plain HTTP on loopback only).
	Anonymous bool
	// Tokens checks bearer tokens (service account tokens); without it
	// requests with one get 401.
	Tokens authn.TokenAuthenticator
	// TokenIssuer signs the tokens of serviceaccounts/token, bound to the
	// objects TokenObjects reads; without them it answers 503.
	TokenIssuer  TokenIssuer
	TokenObjects satoken.Objects
	// IssuerDiscovery, when set, serves the service account issuer's
	// OpenID discovery (/.well-known/openid-configuration, /openid/v1/jwks).
	IssuerDiscovery http.Handler
	// NodeTLS reaches node agents for pods/log, exec and attach (client
	// certificate and CA); without it those answer 503.
	NodeTLS *tls.Config
	// ProxyDial, when set, dials the pods and endpoints of the proxy
	// subresources instead of a plain dialer: integration tests point
	// them at loopback backends.
	ProxyDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Authorization puts the authorizer chain (system:masters, RBAC) in
	// front of every authenticated request; without it every request is
	// allowed (tests of the REST layer alone).
	Authorization bool
}

// Server serves the Kubernetes API.
type Server struct {
	cfg       Config
	codec     *codec.Codec
	resources map[schema.GroupVersionResource]*resource
	discovery *discovery.Discovery
	openapi   *openapi.OpenAPI
	metrics   *metrics
	registry  *prometheus.Registry
	started   sync.Once
	ready     chan struct{}
	drainOnce sync.Once
	// draining closes when the server starts to shut down: watches end
	// with a normal close and /readyz fails.
	draining chan struct{}
	// authz is nil when authorization is off.
	authz *authorization
	// answer holds the create handlers of resources never stored.
	answer map[schema.GroupResource]answerFunc
}

// New builds a server over the configured resources.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := codec.New()
	s := &Server{
		cfg:       cfg,
		codec:     c,
		resources: map[schema.GroupVersionResource]*resource{},
		discovery: discovery.New(cfg.Resources),
		openapi:   openapi.New(openapi.Config{Resources: cfg.Resources, Scheme: c.Scheme, Version: KubernetesVersion, Logger: cfg.Logger}),
		registry:  prometheus.NewRegistry(),
		ready:     make(chan struct{}),
		draining:  make(chan struct{}),
	}
	s.metrics = newMetrics(s.registry)
	tc := managedfields.TypeConverter(applyconfigurations.NewTypeConverter(s.codec.Scheme))
	for _, def := range cfg.Resources {
		h, err := s.newResource(def, tc)
		if err != nil {
			return nil, err
		}
		s.resources[def.GroupVersion.WithResource(def.Name)] = h
	}
	s.answer = s.answerers()
	if cfg.Authorization {
		s.authz = s.newAuthorization()
	}
	return s, nil
}

func (s *Server) newResource(def *registry.Resource, tc managedfields.TypeConverter) (*resource, error) {
	h := &resource{def: def, srv: s, log: s.cfg.Logger.With("resource", def.GroupResource().String())}
	if def.Review != nil || def.Verbs != nil {
		return h, nil // never stored
	}
	store := objstore.New(objstore.Config{
		Storage: s.cfg.Storage, Codec: s.codec, Resource: def.GroupResource(),
		Kind: def.GroupVersionKind(), New: def.New, Namespaced: def.Namespaced, Stored: def.Stored,
	})
	h.store = store
	h.cache = watchcache.New(watchcache.Config{Storage: s.cfg.Storage, Prefix: store.Prefix(""), Decode: store.Decode, Logger: h.log})
	managers, err := s.fieldManagers(def, tc)
	if err != nil {
		return nil, fmt.Errorf("field managers of %s: %w", def.GroupResource(), err)
	}
	h.managers = managers
	return h, nil
}

// Run runs the watch caches until ctx ends.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	if s.authz != nil {
		s.authz.run(ctx)
	}
	for _, h := range s.resources {
		if h.cache == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.cache.Run(ctx)
		}()
	}
	s.started.Do(func() { close(s.ready) })
	// Build the OpenAPI documents now, not on kubectl's first apply:
	// building them takes seconds, longer than kubectl waits on a busy
	// machine.
	go s.openapi.Warm()
	wg.Wait()
}

// admitNamespace refuses namespaced objects in a namespace that is missing
// or being deleted, as upstream's NamespaceLifecycle admission does.
func (s *Server) admitNamespace(ctx context.Context, def *registry.Resource, ns string) error {
	if !def.Namespaced {
		return nil
	}
	h := s.resources[corev1.SchemeGroupVersion.WithResource("namespaces")]
	if h == nil {
		return nil
	}
	obj, err := h.store.Get(ctx, "", ns)
	if err != nil {
		return err
	}
	if obj.(*corev1.Namespace).Status.Phase == corev1.NamespaceTerminating {
		err := apierrors.NewForbidden(def.GroupResource(), "",
			fmt.Errorf("unable to create new content in namespace %s because it is being terminated", ns))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{
			Type: corev1.NamespaceTerminatingCause, Field: "metadata.namespace",
			Message: fmt.Sprintf("namespace %s is being terminated", ns),
		})
		return err
	}
	return nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/version", serveVersion)
	for _, p := range []string{"/healthz", "/livez", "/readyz"} {
		mux.HandleFunc(p, s.serveHealth)
		mux.HandleFunc(p+"/", s.serveHealth)
	}
	mux.Handle("/metrics", s.metricsHandler())
	mux.Handle("/openapi/", s.openapi)
	if s.cfg.IssuerDiscovery != nil {
		mux.Handle(satoken.OpenIDConfigurationPath, s.cfg.IssuerDiscovery)
		mux.Handle(satoken.JWKSPath, s.cfg.IssuerDiscovery)
	}
	mux.HandleFunc("/api", s.serveAPI)
	mux.HandleFunc("/api/", s.serveAPI)
	mux.HandleFunc("/apis", s.serveAPI)
	mux.HandleFunc("/apis/", s.serveAPI)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeError(w, errNoResource()) })
	return s.authenticate(s.impersonate(s.authorize(mux)))
}

// serveAPI routes resource requests to their resource and the rest to
// discovery.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request) {
	info, ok := parseRequest(r)
	if !ok {
		s.discovery.ServeHTTP(w, r)
		return
	}
	h := s.resources[schema.GroupVersionResource{Group: info.Group, Version: info.Version, Resource: info.Resource}]
	if h == nil {
		writeError(w, errNoResource())
		return
	}
	done := s.metrics.observe(info.Verb, h.def.GroupResource(), info.Subresource)
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	h.serve(rec, r, info)
	done(rec.code)
}

// errNoResource is kube-apiserver's answer for a path that names no
// served resource: 404 NotFound, "the server could not find the requested
// resource", with empty details.
func errNoResource() *apierrors.StatusError {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound,
		Details: &metav1.StatusDetails{}, Message: "the server could not find the requested resource",
	}}
}

// Drain starts a clean shutdown: every open watch ends with a normal close
// of its stream (clients re-watch, against the next server, without an
// error), new watches end after their initial events, and /readyz answers
// 503. Other requests are served as before; the caller then stops the HTTP
// server, which lets them finish. Later calls do nothing.
func (s *Server) Drain() {
	s.drainOnce.Do(func() { close(s.draining) })
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	select {
	case <-s.draining:
		if strings.HasPrefix(r.URL.Path, "/readyz") {
			http.Error(w, "shutting down", http.StatusServiceUnavailable)
			return
		}
	default:
	}
	select {
	case <-s.ready:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok"))
	default:
		http.Error(w, "watch caches not started", http.StatusServiceUnavailable)
	}
}

// Object reads one stored object of a resource, for admission that looks
// at other objects (a pod's ServiceAccount).
func (s *Server) Object(ctx context.Context, gvr schema.GroupVersionResource, ns, name string) (runtime.Object, error) {
	h := s.resources[gvr]
	if h == nil {
		return nil, fmt.Errorf("resource %s is not served", gvr)
	}
	return h.store.Get(ctx, ns, name)
}

// Objects lists every stored object of a resource, for repairs the server
// runs on start before it serves writes.
func (s *Server) Objects(ctx context.Context, gvr schema.GroupVersionResource) ([]runtime.Object, error) {
	h := s.resources[gvr]
	if h == nil || h.store == nil {
		return nil, fmt.Errorf("resource %s is not served", gvr)
	}
	res, err := h.store.List(ctx, objstore.ListOptions{})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}
