package apiserver

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	utilproxy "k8s.io/apimachinery/pkg/util/proxy"
)

// The proxy subresources pods/<[scheme:]name[:port]>/proxy/<path>,
// services/<[scheme:]name[:port]>/proxy/<path> and
// nodes/<[scheme:]name[:port]>/proxy/<path> forward any method, the query
// and upgrades (websockets) to a pod, to one ready endpoint of a Service,
// or to a node: its agent over HTTPS with the server's node credentials
// when no other port is asked for. The API server dials the addresses
// itself, so it must run where they route (the node's namespace). As
// kube-apiserver's proxy, links in proxied HTML and Location headers that
// point into the target are rewritten to go through the proxy path, and
// the target's CORS headers are dropped (apimachinery's proxy.Transport).

// proxyTarget is where one proxy request goes.
type proxyTarget struct {
	url       *url.URL
	transport http.RoundTripper
}

// serveProxy serves a proxy subresource request.
func (h *resource) serveProxy(w http.ResponseWriter, r *http.Request, info requestInfo) {
	name, ok := parseProxyName(info.Name)
	if !ok {
		writeError(w, apierrors.NewBadRequest(fmt.Sprintf("invalid proxy name %q", info.Name)))
		return
	}
	if redirectToSlash(w, r, info) {
		return
	}
	target, err := h.proxyTarget(r, info, name)
	if err != nil {
		writeError(w, err)
		return
	}
	target.url.Path = info.ProxyPath
	target.url.RawQuery = r.URL.RawQuery
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target.url
			pr.Out.Host = target.url.Host
			pr.Out.Header.Del("Authorization")
			pr.SetXForwarded()
		},
		Transport:     rewritingTransport(r, info, target.transport),
		FlushInterval: -1,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, apierrors.NewServiceUnavailable(fmt.Sprintf("error trying to reach %s: %v", target.url.Host, err)))
		},
	}
	rp.ServeHTTP(unwrapRecorder(w), r)
}

func (h *resource) proxyTarget(r *http.Request, info requestInfo, name proxyName) (proxyTarget, error) {
	info.Name = name.Name
	switch h.def.Name {
	case "pods":
		return h.podProxyTarget(r, info, name)
	case "services":
		return h.serviceProxyTarget(r, info, name)
	case "nodes":
		return h.nodeProxyTarget(r, name)
	}
	return proxyTarget{}, apierrors.NewNotFound(h.def.GroupResource(), info.Name+"/proxy")
}

func (h *resource) podProxyTarget(r *http.Request, info requestInfo, name proxyName) (proxyTarget, error) {
	obj, err := h.getObject(r.Context(), info)
	if err != nil {
		return proxyTarget{}, err
	}
	host, err := podHost(obj.(*corev1.Pod), name.Port)
	if err != nil {
		return proxyTarget{}, err
	}
	return h.srv.directTarget(name.Scheme, host), nil
}

func (h *resource) serviceProxyTarget(r *http.Request, info requestInfo, name proxyName) (proxyTarget, error) {
	obj, err := h.getObject(r.Context(), info)
	if err != nil {
		return proxyTarget{}, err
	}
	portName, err := servicePortName(obj.(*corev1.Service), name.Port)
	if err != nil {
		return proxyTarget{}, err
	}
	eps := h.srv.resources[corev1.SchemeGroupVersion.WithResource("endpoints")]
	if eps == nil {
		return proxyTarget{}, apierrors.NewServiceUnavailable("endpoints are not served")
	}
	epObj, err := eps.store.Get(r.Context(), info.Namespace, name.Name)
	if apierrors.IsNotFound(err) {
		return proxyTarget{}, apierrors.NewServiceUnavailable(fmt.Sprintf("no endpoints available for service %q", name.Name))
	}
	if err != nil {
		return proxyTarget{}, err
	}
	host, err := endpointHost(epObj.(*corev1.Endpoints), portName, nil)
	if err != nil {
		return proxyTarget{}, err
	}
	return h.srv.directTarget(name.Scheme, host), nil
}

// nodeProxyTarget is the node's agent (no port, or the agent's port),
// reached with the server's node credentials, or another port of the
// node over plain HTTP unless https is asked for.
func (h *resource) nodeProxyTarget(r *http.Request, name proxyName) (proxyTarget, error) {
	addr, err := h.srv.nodeAddress(r.Context(), name.Name)
	if err != nil {
		return proxyTarget{}, err
	}
	ip, agentPort, _ := net.SplitHostPort(addr)
	if name.Port != "" && name.Port != agentPort {
		if _, err := strconv.ParseUint(name.Port, 10, 16); err != nil {
			return proxyTarget{}, apierrors.NewBadRequest(fmt.Sprintf("invalid port %q", name.Port))
		}
		return h.srv.directTarget(name.Scheme, net.JoinHostPort(ip, name.Port)), nil
	}
	tr, err := h.srv.nodeTransport()
	if err != nil {
		return proxyTarget{}, err
	}
	return proxyTarget{url: &url.URL{Scheme: "https", Host: addr}, transport: tr}, nil
}

// directTarget dials host itself; HTTPS targets are not verified, as
// kube-apiserver does not verify pods' certificates.
func (s *Server) directTarget(scheme, host string) proxyTarget {
	if scheme == "" {
		scheme = "http"
	}
	dial := s.cfg.ProxyDial
	if dial == nil {
		dial = (&net.Dialer{Timeout: 10 * time.Second}).DialContext
	}
	tr := &http.Transport{
		DialContext:         dial,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // as upstream's proxy to pods
		DisableKeepAlives:   true,
	}
	return proxyTarget{url: &url.URL{Scheme: scheme, Host: host}, transport: tr}
}

// rewritingTransport wraps tr as kube-apiserver's proxy handler does:
// URLs in text/html answers and in Location headers are rewritten under
// the request's path up to the proxied path (".../proxy"), and CORS
// headers of the target are removed.
func rewritingTransport(r *http.Request, info requestInfo, tr http.RoundTripper) http.RoundTripper {
	return corsRemoving{&utilproxy.Transport{PathPrepend: proxyPrefix(r.URL.Path, info.ProxyPath), RoundTripper: tr}}
}

// proxyPrefix is the request path without the proxied path: the prefix
// under which links of the target are reached.
func proxyPrefix(reqPath, proxyPath string) string {
	if strings.HasSuffix(reqPath, "/") && !strings.HasSuffix(proxyPath, "/") {
		proxyPath += "/"
	}
	return strings.TrimSuffix(reqPath, proxyPath)
}

// corsRemoving drops the target's CORS headers: the API server's own
// policy applies, as upstream's proxy.
type corsRemoving struct{ http.RoundTripper }

func (c corsRemoving) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.RoundTripper.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	for _, h := range []string{"Access-Control-Allow-Credentials", "Access-Control-Allow-Headers",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Origin"} {
		resp.Header.Del(h)
	}
	return resp, nil
}

// redirectToSlash answers a GET or HEAD of ".../proxy" (no path at all)
// with a 301 to ".../proxy/", query kept, as kube-apiserver's proxy does.
func redirectToSlash(w http.ResponseWriter, r *http.Request, info requestInfo) bool {
	if info.ProxyPath != "/" || strings.HasSuffix(r.URL.Path, "/") || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	loc := r.URL.Path + "/"
	if r.URL.RawQuery != "" {
		loc += "?" + r.URL.RawQuery
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusMovedPermanently)
	return true
}
