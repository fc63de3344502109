// Package stream is the agent's HTTPS server, the counterpart of the
// kubelet's port 10250: container logs (/containerLogs), exec and attach
// (/exec, /attach) over the websocket channel protocols kubectl speaks
// (v5.channel.k8s.io and v4.channel.k8s.io) or SPDY, and port-forward
// (/portForward) over SPDY, plain or tunnelled in a websocket. The API
// server forwards pods/log, pods/exec, pods/attach and pods/portforward
// here. Only clients with a
// certificate signed by the cluster CA get in.
package stream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// Pods is what the server needs of the agent.
type Pods interface {
	// LookupPod returns a pod bound to the node.
	LookupPod(namespace, name string) (*corev1.Pod, bool)
	// Streamer returns the runtime's logs, exec, attach and
	// port-forward, if it has them.
	Streamer() (runtime.Streamer, bool)
}

// Config configures the server.
type Config struct {
	Pods   Pods
	Logger *slog.Logger
}

// Server serves logs, exec and attach.
type Server struct {
	cfg Config
}

// NewServer returns a server.
func NewServer(cfg Config) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Server{cfg: cfg}
}

// ServerTLSConfig presents cert and requires client certificates signed
// by the CAs in clientCAsPEM.
func ServerTLSConfig(cert tls.Certificate, clientCAsPEM []byte) *tls.Config {
	c := RotatingTLSConfig(nil, clientCAsPEM)
	c.Certificates = []tls.Certificate{cert}
	return c
}

// ErrNoServingCertificate is the handshake's error while a rotating
// server has no certificate yet.
var ErrNoServingCertificate = errors.New("no serving certificate yet")

// RotatingTLSConfig presents, at each handshake, the certificate current
// returns (the kubelet's rotating serving certificate; nil until one is
// issued) and requires client certificates signed by the CAs in
// clientCAsPEM. A nil current leaves Certificates to the caller.
func RotatingTLSConfig(current func() *tls.Certificate, clientCAsPEM []byte) *tls.Config {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(clientCAsPEM)
	c := &tls.Config{MinVersion: tls.VersionTLS12, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool,
		NextProtos: []string{"http/1.1"}}
	if current != nil {
		c.GetCertificate = func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			if cert := current(); cert != nil {
				return cert, nil
			}
			return nil, ErrNoServingCertificate
		}
	}
	return c
}

// Serve serves on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 30 * time.Second}
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Handler routes the server's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "ok") })
	mux.HandleFunc("GET /containerLogs/{ns}/{pod}/{container}", s.serveLogs)
	for _, verb := range []string{"exec", "attach"} {
		mux.HandleFunc("/"+verb+"/{ns}/{pod}/{container}", s.serveStream)
		mux.HandleFunc("/"+verb+"/{ns}/{pod}", s.serveStream)
	}
	mux.HandleFunc("/portForward/{ns}/{pod}", s.servePortForward)
	mux.HandleFunc("/portForward/{ns}/{pod}/{uid}", s.servePortForward)
	return mux
}

// target resolves a request's pod and container (the default container
// when none is named).
func (s *Server) target(r *http.Request) (*corev1.Pod, string, runtime.Streamer, error) {
	pod, ok := s.cfg.Pods.LookupPod(r.PathValue("ns"), r.PathValue("pod"))
	if !ok {
		return nil, "", nil, fmt.Errorf("%w: pod %s/%s is not on this node", errNotFound, r.PathValue("ns"), r.PathValue("pod"))
	}
	st, ok := s.cfg.Pods.Streamer()
	if !ok {
		return nil, "", nil, fmt.Errorf("%w: the node's runtime has no processes (simulated)", errBadRequest)
	}
	name := r.PathValue("container")
	if name == "" {
		name = DefaultContainer(pod)
	}
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == name {
			return pod, name, st, nil
		}
	}
	return nil, "", nil, fmt.Errorf("%w: container %s is not valid for pod %s", errBadRequest, name, pod.Name)
}

// DefaultContainer is the container a request that names none means: the
// one the kubectl.kubernetes.io/default-container annotation names, else
// the first.
func DefaultContainer(pod *corev1.Pod) string {
	if n := pod.Annotations["kubectl.kubernetes.io/default-container"]; n != "" {
		return n
	}
	if len(pod.Spec.Containers) > 0 {
		return pod.Spec.Containers[0].Name
	}
	return ""
}

var (
	errNotFound   = errors.New("not found")
	errBadRequest = errors.New("bad request")
)

func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, errNotFound):
		code = http.StatusNotFound
	case errors.Is(err, errBadRequest):
		code = http.StatusBadRequest
	}
	http.Error(w, err.Error(), code)
}

func boolParam(r *http.Request, names ...string) bool {
	for _, n := range names {
		switch strings.ToLower(r.URL.Query().Get(n)) {
		case "1", "true":
			return true
		}
	}
	return false
}
