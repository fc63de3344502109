package images

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// fakeStore holds imported images by reference.
type fakeStore map[string]StoredImage

func (f fakeStore) Lookup(ref string) (StoredImage, bool, error) {
	img, ok := f[ref]
	return img, ok, nil
}

func TestResolve(t *testing.T) {
	trees := Trees{Busybox: "/t/bb", BusyboxLibc: "/t/bb128", Nginx: "/t/nginx", Agnhost: "/t/agnhost", Pause: "/t/pause",
		Httpd: "/t/httpd", Dnsutils: "/t/dnsutils", KubeProxy: "/t/kp", CoreDNS: "/t/coredns"}
	store := fakeStore{"example.com/app:1": {ID: "sha256:abc", Layers: []string{"/l1", "/l2"}, Entrypoint: []string{"/app"},
		Cmd: []string{"--serve"}, Env: []string{"PATH=/bin", "MODE=x"}, User: "1000", WorkingDir: "/work"}}
	r := NewResolver(Config{Trees: trees, Store: store})
	const self = "/.svcplane/svcplane"
	tests := []struct {
		name  string
		c     corev1.Container
		argv  string
		err   error
		layer string
	}{
		{"nginx default", corev1.Container{Image: "nginx:1.27"}, self + " image nginx --ports 80", nil, "/t/nginx"},
		{"nginx ports", corev1.Container{Image: "docker.io/library/nginx", Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 53, Protocol: corev1.ProtocolUDP}}}, self + " image nginx --ports 8080", nil, "/t/nginx"},
		{"nginx command nginx", corev1.Container{Image: "nginx", Command: []string{"nginx", "-g", "daemon off;"}}, self + " image nginx --ports 80 -g daemon off;", nil, "/t/nginx"},
		{"nginx running sh", corev1.Container{Image: "nginx", Args: []string{"sh", "-c", "true"}}, "sh -c true", nil, "/t/nginx"},
		{"busybox default", corev1.Container{Image: "busybox"}, "sh", nil, "/t/bb"},
		{"busybox args only", corev1.Container{Image: "busybox:1.36", Args: []string{"sleep", "10"}}, "sleep 10", nil, "/t/bb"},
		{"busybox command and args", corev1.Container{Image: "busybox", Command: []string{"sh", "-c"}, Args: []string{"echo hi"}}, "sh -c echo hi", nil, "/t/bb"},
		{"busybox 1.28.4 libc nslookup", corev1.Container{Image: "busybox:1.28.4"}, "sh", nil, "/t/bb128"},
		{"busybox 1.28 musl", corev1.Container{Image: "docker.io/library/busybox:1.28-musl"}, "sh", nil, "/t/bb128"},
		{"busybox 1.27 pinned by digest", corev1.Container{Image: "busybox:1.27.2@sha256:abc"}, "sh", nil, "/t/bb128"},
		{"busybox 1.29", corev1.Container{Image: "busybox:1.29"}, "sh", nil, "/t/bb"},
		{"busybox latest", corev1.Container{Image: "busybox:latest"}, "sh", nil, "/t/bb"},
		{"busybox digest only", corev1.Container{Image: "busybox@sha256:abc"}, "sh", nil, "/t/bb"},
		{"busybox e2e", corev1.Container{Image: "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"}, "sh", nil, "/t/bb"},
		{"agnhost default cmd is pause", corev1.Container{Image: "registry.k8s.io/e2e-test-images/agnhost:2.53"}, "/agnhost pause", nil, "/t/agnhost"},
		{"agnhost args", corev1.Container{Image: "registry.k8s.io/e2e-test-images/agnhost:2.53", Args: []string{"netexec", "--http-port=8080"}}, "/agnhost netexec --http-port=8080", nil, "/t/agnhost"},
		{"agnhost command", corev1.Container{Image: "agnhost", Command: []string{"/agnhost", "serve-hostname"}}, "/agnhost serve-hostname", nil, "/t/agnhost"},
		{"agnhost shell", corev1.Container{Image: "registry.k8s.io/e2e-test-images/agnhost:2.55", Command: []string{"sh", "-c", "nc -l 80"}}, "sh -c nc -l 80", nil, "/t/agnhost"},
		{"httpd", corev1.Container{Image: "registry.k8s.io/e2e-test-images/httpd:2.4.38-4"}, "httpd-foreground", nil, "/t/httpd"},
		{"httpd 2.4.39", corev1.Container{Image: "registry.k8s.io/e2e-test-images/httpd:2.4.39-4", Args: []string{"httpd", "-D", "FOREGROUND"}}, "httpd -D FOREGROUND", nil, "/t/httpd"},
		{"nginx e2e", corev1.Container{Image: "registry.k8s.io/e2e-test-images/nginx:1.14-4"}, self + " image nginx --ports 80", nil, "/t/nginx"},
		{"nginx e2e 1.15", corev1.Container{Image: "registry.k8s.io/e2e-test-images/nginx:1.15-4"}, self + " image nginx --ports 80", nil, "/t/nginx"},
		{"jessie-dnsutils", corev1.Container{Image: "registry.k8s.io/e2e-test-images/jessie-dnsutils:1.7", Command: []string{"sh", "-c", "dig +short a"}}, "sh -c dig +short a", nil, "/t/dnsutils"},
		{"pause", corev1.Container{Image: "registry.k8s.io/pause:3.10"}, self + " image pause", nil, "/t/pause"},
		{"kube-proxy as kubeadm", corev1.Container{Image: "registry.k8s.io/kube-proxy:v1.32.2", Command: []string{"/usr/local/bin/kube-proxy",
			"--config=/var/lib/kube-proxy/config.conf", "--hostname-override=n1"}}, self + " proxy --config=/var/lib/kube-proxy/config.conf --hostname-override=n1", nil, "/t/kp"},
		{"kube-proxy shell", corev1.Container{Image: "registry.k8s.io/kube-proxy:v1.32.2", Command: []string{"sh"}}, "sh", nil, "/t/kp"},
		{"coredns as kubeadm", corev1.Container{Image: "registry.k8s.io/coredns/coredns:v1.11.3", Args: []string{"-conf", "/etc/coredns/Corefile"}},
			self + " dns -conf /etc/coredns/Corefile", nil, "/t/coredns"},
		{"coredns command", corev1.Container{Image: "coredns/coredns:1.11.1", Command: []string{"/coredns"}, Args: []string{"-conf", "/c"}}, self + " dns -conf /c", nil, "/t/coredns"},
		{"imported: entrypoint and cmd", corev1.Container{Image: "example.com/app:1"}, "/app --serve", nil, "/l1"},
		{"imported: args replace cmd", corev1.Container{Image: "example.com/app:1", Args: []string{"--once"}}, "/app --once", nil, "/l1"},
		{"imported: command drops cmd", corev1.Container{Image: "example.com/app:1", Command: []string{"/bin/sh"}}, "/bin/sh", nil, "/l1"},
		{"not present, with a host command", corev1.Container{Image: "example.com/other", Command: []string{"/usr/bin/env"}}, "", ErrNotPresent, ""},
		{"lookalike in another registry", corev1.Container{Image: "quay.io/someone/nginx"}, "", ErrNotPresent, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := r.Resolve(&tt.c)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got := strings.Join(res.Argv, " "); got != tt.argv {
				t.Fatalf("argv %q, want %q", got, tt.argv)
			}
			if err == nil && (len(res.Layers) == 0 || res.Layers[0] != tt.layer) {
				t.Fatalf("layers %v, want %s first", res.Layers, tt.layer)
			}
		})
	}
	res, _ := r.Resolve(&corev1.Container{Image: "registry.k8s.io/e2e-test-images/httpd:2.4.39-4"})
	if !res.Self || res.WorkingDir != "/usr/local/apache2" || !slices.Contains(res.Env, "HTTPD_VERSION=2.4.39") {
		t.Errorf("httpd: %+v", res)
	}
	res, _ = r.Resolve(&corev1.Container{Image: "example.com/app:1"})
	if res.Self || res.User != "1000" || res.WorkingDir != "/work" || res.ID != "sha256:abc" || strings.Join(res.Env, " ") != "PATH=/bin MODE=x" {
		t.Errorf("imported image: %+v", res)
	}
}

// TestNginxPages: the files under the image's html root are served, a
// page written there too (the StatefulSet tutorial's), and without the
// root the welcome page alone.
func TestNginxPages(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{"index.html": welcomePage, "web-0.html": "web-0\n", "sub/index.html": "sub\n"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	type page struct {
		code int
		body string
	}
	for _, c := range []struct {
		root  string
		pages map[string]page
	}{
		{root, map[string]page{"/": {200, "<title>Welcome to nginx!</title>"}, "/index.html": {200, "<title>Welcome to nginx!</title>"},
			"/web-0.html": {200, "web-0"}, "/sub/": {200, "sub"}, "/sub": {404, "404 Not Found"}, "/nope": {404, "404 Not Found"},
			"/../../etc/passwd": {404, "404 Not Found"}}},
		{filepath.Join(root, "missing"), map[string]page{"/": {200, "<title>Welcome to nginx!</title>"}, "/web-0.html": {404, "404 Not Found"}}},
	} {
		srv := httptest.NewServer(nginxHandler(c.root))
		for p, want := range c.pages {
			resp, err := http.Get(srv.URL + p)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want.code || !strings.Contains(string(b), want.body) || resp.Header.Get("Server") != nginxVersion {
				t.Errorf("%s %s: %d %q %q", c.root, p, resp.StatusCode, resp.Header.Get("Server"), b)
			}
		}
		srv.Close()
	}
}

func TestPrepareTrees(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "busybox")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'busybox\nsh\nnslookup\nwget'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tool := filepath.Join(dir, "usr/bin/dig")
	os.MkdirAll(filepath.Dir(tool), 0o755)
	if err := os.WriteFile(tool, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := TreeLayout{Dir: filepath.Join(dir, "trees"), Self: self, Busybox: bin, Shell: bin, HostTools: []string{tool}}
	for range 2 { // the second run finds everything in place
		trees, err := PrepareTrees(l)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range []string{trees.Busybox, trees.BusyboxLibc} {
			for _, applet := range []string{"sh", "nslookup", "wget"} {
				target, err := os.Readlink(filepath.Join(d, "bin", applet))
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, filepath.Base(d)+"/"+applet+" -> "+target)
			}
		}
		want := []string{"busybox/sh -> busybox", "busybox/nslookup -> busybox", "busybox/wget -> busybox",
			"busybox-1.28/sh -> .busybox-shell", "busybox-1.28/nslookup -> /.svcplane/svcplane", "busybox-1.28/wget -> busybox"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("links (-want +got):\n%s", diff)
		}
		for _, p := range []string{"agnhost/agnhost", "agnhost/agnhost-2", "agnhost/usr/bin/nc",
			"httpd/usr/local/apache2/bin/httpd", "httpd/usr/local/bin/httpd-foreground"} {
			if target, err := os.Readlink(filepath.Join(l.Dir, p)); err != nil || target != "/.svcplane/svcplane" {
				t.Errorf("%s -> %q %v", p, target, err)
			}
		}
		for _, f := range []string{"busybox/bin/busybox", "busybox/etc/passwd", "nginx/usr/share/nginx/html/index.html",
			"nginx/etc/nginx/conf.d/default.conf", "pause/.svcplane/svcplane", "agnhost/bin/busybox", "agnhost/uploads",
			"agnhost/localhost.crt", "agnhost/localhost.key", "agnhost" + tool, "jessie-dnsutils" + tool,
			"jessie-dnsutils/etc/nsswitch.conf", "httpd/usr/local/apache2/htdocs/index.html"} {
			if _, err := os.Stat(filepath.Join(l.Dir, f)); err != nil {
				t.Errorf("tree: %v", err)
			}
		}
		libs, err := sharedLibraries(self)
		if err != nil {
			t.Fatal(err)
		}
		for _, lib := range libs { // a dynamically linked svcplane runs in every tree
			if _, err := os.Stat(filepath.Join(trees.Pause, lib)); err != nil {
				t.Errorf("library: %v", err)
			}
		}
	}
}

func TestFindBusybox(t *testing.T) {
	dir := t.TempDir()
	want := filepath.Join(dir, "busybox")
	if bin, fallback := FindBusybox(want); bin == want || !fallback {
		t.Errorf("missing binary: %q %v", bin, fallback)
	}
	os.WriteFile(want, []byte("#!/bin/sh\n"), 0o755)
	if bin, fallback := FindBusybox(want); bin != want || fallback {
		t.Errorf("present binary: %q %v", bin, fallback)
	}
}

// TestResolveMissingTree: an image whose tree could not be laid out is
// not present, with the reason; the others still resolve.
func TestResolveMissingTree(t *testing.T) {
	trees := Trees{Nginx: "/t/nginx", Missing: map[string]error{"kube-proxy": errors.New("lay out image kube-proxy: libm.so.6 missing")}}
	r := NewResolver(Config{Trees: trees})
	_, err := r.Resolve(&corev1.Container{Image: "registry.k8s.io/kube-proxy:v1.32.0"})
	if !errors.Is(err, ErrNotPresent) || !strings.Contains(err.Error(), "libm.so.6 missing") {
		t.Errorf("kube-proxy: %v", err)
	}
	if res, err := r.Resolve(&corev1.Container{Image: "nginx"}); err != nil || res.Layers[0] != "/t/nginx" {
		t.Errorf("nginx: %+v %v", res, err)
	}
}
