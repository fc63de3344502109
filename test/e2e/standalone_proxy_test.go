package e2e

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svcplane/svcplane/internal/netns"
)

// TestStandaloneProxy runs `svcplane proxy` as its own process, as it runs
// against any Kubernetes API server: kube-proxy's flags and a kubeconfig,
// nothing else. Its requests pass through a recorder, which checks they
// are all plain Kubernetes API reads and watches (plus events), and a
// ClusterIP it programs carries traffic.
func TestStandaloneProxy(t *testing.T) {
	s := startSandbox(t, "--no-proxy")
	rec := startRecorder(t, s)
	kubeconfig := filepath.Join(t.TempDir(), "proxy.kubeconfig")
	if err := os.WriteFile(kubeconfig, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://`+rec.addr+`"}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
users: [{name: u, user: {}}]
current-context: c
`), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &lockedBuffer{}
	proxy := exec.Command("nsenter", "--net="+s.nodeNetns(), "--", binary, "proxy",
		"--kubeconfig", kubeconfig, "--hostname-override", s.name, "--proxy-mode", "nftables",
		"--cluster-cidr", "10.244.0.0/16", "--v", "2")
	proxy.Stdout, proxy.Stderr = out, out
	if err := proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Process.Kill(); proxy.Wait() })

	s.apply(t, hostnamesManifest)
	s.must(t, "run", "bb", "--image=busybox", "--restart=Never", "--", "sleep", "3600")
	s.waitRunningReady(t, "bb")
	ip := s.clusterIP(t, "hostnames")
	s.waitFor(t, 60*time.Second, "the ClusterIP answering through the standalone proxy", func() (bool, string) {
		got, err := s.fetch("bb", "http://"+ip+"/")
		return err == nil && strings.HasPrefix(got, "hostnames-"), got + "\n" + tail(out.String(), 5)
	})
	seen := rec.paths()
	for _, p := range seen {
		if !standardProxyRequest(p) {
			t.Errorf("the proxy asked for %s, which kube-proxy does not", p)
		}
	}
	for _, want := range []string{"GET /api/v1/services", "GET /apis/discovery.k8s.io/v1/endpointslices"} {
		if !slices.Contains(seen, want) {
			t.Errorf("the proxy never asked for %s through the recorder: %v", want, seen)
		}
	}
}

// standardProxyRequest says whether a request ("METHOD /path") is one
// kube-proxy makes: discovery, reads and watches of its Node, Services
// and EndpointSlices, and writes of events.
func standardProxyRequest(req string) bool {
	method, path, _ := strings.Cut(req, " ")
	if method == http.MethodGet {
		for _, p := range []string{"/api", "/apis", "/version", "/api/v1/services", "/api/v1/nodes", "/apis/discovery.k8s.io/v1/endpointslices"} {
			if path == p || strings.HasPrefix(path, p+"/") {
				return true
			}
		}
		return false
	}
	return (method == http.MethodPost || method == http.MethodPatch) && strings.Contains(path, "/events")
}

// lockedBuffer collects a process's output for reading while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// recorder is a plain-HTTP front for the API inside the node's namespace,
// authenticating as the admin and noting every request.
type recorder struct {
	addr string
	mu   sync.Mutex
	seen map[string]bool
}

func (r *recorder) paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for p := range r.seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

func startRecorder(t *testing.T, s *sandbox) *recorder {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", s.kubeconfig())
	if err != nil {
		t.Fatal(err)
	}
	transport, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	var ln net.Listener
	if err := netns.Do(s.nodeNetns(), func() error {
		var err error
		ln, err = net.Listen("tcp", nodeAddr+":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{addr: ln.Addr().String(), seen: map[string]bool{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = transport
	rp.FlushInterval = -1
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec.mu.Lock()
		rec.seen[req.Method+" "+req.URL.Path] = true
		rec.mu.Unlock()
		rp.ServeHTTP(w, req)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return rec
}
