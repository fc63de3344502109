// Package probe runs a container's liveness, readiness and startup probes
// (httpGet, tcpSocket, exec) with upstream's timing fields, and keeps
// their results: Run performs one probe, a worker repeats one probe of one
// container, and a Manager keeps the workers of one pod.
package probe

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Result is a probe's outcome.
type Result int

// Results.
const (
	Unknown Result = iota
	Success
	Failure
)

func (r Result) String() string {
	return [...]string{"unknown", "success", "failure"}[r]
}

// Target is where a container's probes go.
type Target struct {
	// IP is the pod's address.
	IP string
	// Ports are the container's, for named ports.
	Ports []corev1.ContainerPort
	// Exec runs a command in the container and returns its exit code.
	Exec func(ctx context.Context, cmd []string) (output string, code int, err error)
}

// Run performs one probe, bounded by its timeout, and returns the result
// with a message saying why it failed.
func Run(ctx context.Context, p *corev1.Probe, t Target) (Result, string) {
	timeout := time.Duration(p.TimeoutSeconds) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.HTTPGet != nil:
		return httpProbe(ctx, p.HTTPGet, t)
	case p.TCPSocket != nil:
		return tcpProbe(ctx, p.TCPSocket, t)
	case p.Exec != nil:
		return execProbe(ctx, p.Exec, t)
	}
	return Failure, "probe type not supported (grpc probes are not)"
}

func resolvePort(port intstr.IntOrString, ports []corev1.ContainerPort) (int, error) {
	if port.Type == intstr.Int {
		return port.IntValue(), nil
	}
	for _, p := range ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort), nil
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return n, nil
	}
	return 0, fmt.Errorf("couldn't find port %q in container ports", port.StrVal)
}

func httpProbe(ctx context.Context, g *corev1.HTTPGetAction, t Target) (Result, string) {
	port, err := resolvePort(g.Port, t.Ports)
	if err != nil {
		return Failure, err.Error()
	}
	host := g.Host
	if host == "" {
		host = t.IP
	}
	scheme := "http"
	if g.Scheme == corev1.URISchemeHTTPS {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: net.JoinHostPort(host, strconv.Itoa(port)), Path: g.Path}
	if u.Path == "" {
		u.Path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Failure, err.Error()
	}
	req.Header.Set("User-Agent", "kube-probe/1.32")
	for _, h := range g.HTTPHeaders {
		req.Header.Set(h.Name, h.Value)
	}
	client := http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		return Failure, err.Error()
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Success, ""
	}
	return Failure, fmt.Sprintf("HTTP probe failed with statuscode: %d", resp.StatusCode)
}

func tcpProbe(ctx context.Context, s *corev1.TCPSocketAction, t Target) (Result, string) {
	port, err := resolvePort(s.Port, t.Ports)
	if err != nil {
		return Failure, err.Error()
	}
	host := s.Host
	if host == "" {
		host = t.IP
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return Failure, err.Error()
	}
	c.Close()
	return Success, ""
}

func execProbe(ctx context.Context, e *corev1.ExecAction, t Target) (Result, string) {
	if t.Exec == nil {
		return Success, ""
	}
	out, code, err := t.Exec(ctx, e.Command)
	switch {
	case ctx.Err() != nil:
		return Failure, fmt.Sprintf("command %q timed out", e.Command)
	case err != nil:
		return Failure, err.Error()
	case code != 0:
		return Failure, out
	}
	return Success, ""
}
