package apiserver

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"time"

	"github.com/gorilla/websocket"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// The pods/log, pods/exec, pods/attach and pods/portforward subresources
// are answered by the node agent running the pod (the kubelet's role):
// the API server finds it through the node's InternalIP and daemon
// endpoint port, and forwards the request over TLS with its own client
// certificate. Logs are copied through; exec, attach and port-forward are
// upgraded connections (websocket or SPDY) proxied both ways. The agent
// ends port-forward's websocket tunnel itself, where kube-apiserver would
// end it and speak SPDY to the kubelet.

// proxiedSubresources are the pod subresources served by node agents.
var proxiedSubresources = map[string]string{"log": "containerLogs", "exec": "exec", "attach": "attach", "portforward": "portForward"}

// proxyToNode serves a pod subresource that lives on the node; it returns
// false for every other request.
func (h *resource) proxyToNode(w http.ResponseWriter, r *http.Request, info requestInfo) bool {
	path, ok := proxiedSubresources[info.Subresource]
	if !ok || h.def.Name != "pods" || h.def.GroupVersion.Group != "" {
		return false
	}
	target, err := h.nodeTarget(r.Context(), info, path, r.URL.Query())
	if err != nil {
		writeError(w, err)
		return true
	}
	if info.Subresource == "log" {
		h.srv.proxyLogs(w, r, target)
		return true
	}
	h.srv.proxyUpgrade(w, r, target)
	return true
}

// nodeTarget returns the agent URL that serves the request:
// /{path}/{ns}/{pod}/{container}, or /portForward/{ns}/{pod}, which has
// no container.
func (h *resource) nodeTarget(ctx context.Context, info requestInfo, path string, q url.Values) (*url.URL, error) {
	obj, err := h.getObject(ctx, info)
	if err != nil {
		return nil, err
	}
	pod := obj.(*corev1.Pod)
	target := fmt.Sprintf("/%s/%s/%s", path, pod.Namespace, pod.Name)
	if path != "portForward" {
		container, err := podContainer(pod, q.Get("container"))
		if err != nil {
			return nil, err
		}
		q.Del("container")
		target += "/" + container
	}
	if pod.Spec.NodeName == "" {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s does not have a host assigned", pod.Name))
	}
	addr, err := h.srv.nodeAddress(ctx, pod.Spec.NodeName)
	if err != nil {
		return nil, err
	}
	return &url.URL{Scheme: "https", Host: addr, Path: target, RawQuery: q.Encode()}, nil
}

// podContainer checks the named container, or picks the default one.
func podContainer(pod *corev1.Pod, name string) (string, error) {
	if name == "" {
		if n := pod.Annotations["kubectl.kubernetes.io/default-container"]; n != "" {
			return n, nil
		}
		if len(pod.Spec.Containers) != 1 {
			return "", apierrors.NewBadRequest(fmt.Sprintf("a container name must be specified for pod %s, choose one of: %s", pod.Name, containerNames(pod)))
		}
		return pod.Spec.Containers[0].Name, nil
	}
	for _, c := range append(append([]corev1.Container(nil), pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == name {
			return name, nil
		}
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("container %s is not valid for pod %s", name, pod.Name))
}

func containerNames(pod *corev1.Pod) []string {
	var out []string
	for _, c := range pod.Spec.Containers {
		out = append(out, c.Name)
	}
	return out
}

// nodeAddress is host:port of a node's agent: its InternalIP (else first
// address) and its kubelet endpoint port.
func (s *Server) nodeAddress(ctx context.Context, name string) (string, error) {
	h := s.resources[corev1.SchemeGroupVersion.WithResource("nodes")]
	if h == nil {
		return "", apierrors.NewServiceUnavailable("nodes are not served")
	}
	obj, err := h.store.Get(ctx, "", name)
	if err != nil {
		return "", err
	}
	node := obj.(*corev1.Node)
	port := node.Status.DaemonEndpoints.KubeletEndpoint.Port
	var ip string
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP || (ip == "" && a.Type != corev1.NodeHostName) {
			ip = a.Address
		}
	}
	if ip == "" || port == 0 {
		return "", apierrors.NewServiceUnavailable(fmt.Sprintf("node %s reports no address or agent port", name))
	}
	return net.JoinHostPort(ip, strconv.Itoa(int(port))), nil
}

// nodeTransport is how the API server reaches agents.
func (s *Server) nodeTransport() (*http.Transport, error) {
	if s.cfg.NodeTLS == nil {
		return nil, apierrors.NewServiceUnavailable("the API server has no credentials for node agents")
	}
	return &http.Transport{TLSClientConfig: s.cfg.NodeTLS.Clone(), DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second, ForceAttemptHTTP2: false}, nil
}

// proxyLogs copies the agent's log stream, turning its errors into
// metav1.Status answers.
func (s *Server) proxyLogs(w http.ResponseWriter, r *http.Request, target *url.URL) {
	tr, err := s.nodeTransport()
	if err != nil {
		writeError(w, err)
		return
	}
	defer tr.CloseIdleConnections()
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodGet, target.String(), nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		writeError(w, apierrors.NewServiceUnavailable(fmt.Sprintf("reach the node agent: %v", err)))
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		msg := trimNL(string(body))
		if resp.StatusCode >= 400 && resp.StatusCode < 500 {
			writeError(w, apierrors.NewBadRequest(msg))
		} else {
			writeError(w, apierrors.NewInternalError(fmt.Errorf("node agent: %s", msg)))
		}
		return
	}
	if websocket.IsWebSocketUpgrade(r) {
		serveLogsWebsocket(w, r, resp.Body)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	copyFlushing(w, resp.Body)
}

func trimNL(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	return s
}

// copyFlushing copies src to w, flushing after each read so that
// followed logs arrive as they are written.
func copyFlushing(w http.ResponseWriter, src io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		}
		if err != nil {
			return
		}
	}
}

// proxyUpgrade forwards an exec, attach or port-forward request, and the
// connection it upgrades to, to the agent.
func (s *Server) proxyUpgrade(w http.ResponseWriter, r *http.Request, target *url.URL) {
	tr, err := s.nodeTransport()
	if err != nil {
		writeError(w, err)
		return
	}
	defer tr.CloseIdleConnections()
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = target
			pr.Out.Host = target.Host
			pr.Out.Header.Del("Authorization")
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, apierrors.NewServiceUnavailable(fmt.Sprintf("reach the node agent: %v", err)))
		},
	}
	rp.ServeHTTP(unwrapRecorder(w), r)
}

// unwrapRecorder returns the writer under the metrics recorder, which
// can hijack the connection for the upgrade.
func unwrapRecorder(w http.ResponseWriter) http.ResponseWriter {
	if rec, ok := w.(*statusRecorder); ok {
		rec.code = http.StatusSwitchingProtocols
		return rec.ResponseWriter
	}
	return w
}
