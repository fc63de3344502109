package images

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func TestResolve(t *testing.T) {
	r := NewResolver(Config{Self: "/bin/svcplane", Busybox: BusyboxDirs{Current: "/bb", Libc: "/bb128"}})
	tests := []struct {
		name string
		c    corev1.Container
		argv string
		err  error
		path string // "/bb" when empty
	}{
		{"nginx default", corev1.Container{Image: "nginx:1.27"}, "/bin/svcplane image nginx --ports 80", nil, ""},
		{"nginx ports", corev1.Container{Image: "docker.io/library/nginx", Ports: []corev1.ContainerPort{{ContainerPort: 8080}, {ContainerPort: 53, Protocol: corev1.ProtocolUDP}}}, "/bin/svcplane image nginx --ports 8080", nil, ""},
		{"nginx command nginx", corev1.Container{Image: "nginx", Command: []string{"nginx", "-g", "daemon off;"}}, "/bin/svcplane image nginx --ports 80 -g daemon off;", nil, ""},
		{"nginx running sh", corev1.Container{Image: "nginx", Args: []string{"sh", "-c", "true"}}, "sh -c true", nil, ""},
		{"busybox default", corev1.Container{Image: "busybox"}, "sh", nil, ""},
		{"busybox args only", corev1.Container{Image: "busybox:1.36", Args: []string{"sleep", "10"}}, "sleep 10", nil, ""},
		{"busybox command and args", corev1.Container{Image: "busybox", Command: []string{"sh", "-c"}, Args: []string{"echo hi"}}, "sh -c echo hi", nil, ""},
		{"busybox 1.28.4 libc nslookup", corev1.Container{Image: "busybox:1.28.4"}, "sh", nil, "/bb128"},
		{"busybox 1.28 musl", corev1.Container{Image: "docker.io/library/busybox:1.28-musl"}, "sh", nil, "/bb128"},
		{"busybox 1.27 pinned by digest", corev1.Container{Image: "busybox:1.27.2@sha256:abc"}, "sh", nil, "/bb128"},
		{"busybox 1.29", corev1.Container{Image: "busybox:1.29"}, "sh", nil, ""},
		{"busybox 1", corev1.Container{Image: "busybox:1"}, "sh", nil, ""},
		{"busybox latest", corev1.Container{Image: "busybox:latest"}, "sh", nil, ""},
		{"busybox glibc", corev1.Container{Image: "busybox:glibc"}, "sh", nil, ""},
		{"busybox digest only", corev1.Container{Image: "busybox@sha256:abc"}, "sh", nil, ""},
		{"agnhost args", corev1.Container{Image: "registry.k8s.io/e2e-test-images/agnhost:2.53", Args: []string{"netexec", "--http-port=8080"}}, "/bin/svcplane image agnhost netexec --http-port=8080", nil, ""},
		{"agnhost command", corev1.Container{Image: "agnhost", Command: []string{"/agnhost", "serve-hostname"}}, "/bin/svcplane image agnhost serve-hostname", nil, ""},
		{"pause", corev1.Container{Image: "registry.k8s.io/pause:3.10"}, "/bin/svcplane image pause", nil, ""},
		{"other image with a host command", corev1.Container{Image: "example.com/app", Command: []string{"/usr/bin/env"}}, "/usr/bin/env", nil, ""},
		{"other image without command", corev1.Container{Image: "example.com/app"}, "", ErrNotBuiltIn, ""},
		{"lookalike in another registry", corev1.Container{Image: "quay.io/someone/nginx"}, "", ErrNotBuiltIn, ""},
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
			dir := tt.path
			if dir == "" {
				dir = "/bb"
			}
			if err == nil && !reflect.DeepEqual(res.Env, []string{"PATH=" + dir + ":" + standardPath}) {
				t.Fatalf("env %v", res.Env)
			}
		})
	}
}

func TestNginxPages(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(serveNginx))
	defer srv.Close()
	for path, want := range map[string]struct {
		code int
		body string
	}{"/": {200, "<title>Welcome to nginx!</title>"}, "/nope": {404, "404 Not Found"}} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.code || !strings.Contains(string(b), want.body) || resp.Header.Get("Server") != nginxVersion {
			t.Errorf("%s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Server"), b)
		}
	}
}

func TestNetexecUDP(t *testing.T) {
	from := &net.UDPAddr{IP: net.IPv4(10, 244, 0, 3), Port: 4000}
	for req, want := range map[string]string{"echo hello": "hello", "clientip": "10.244.0.3:4000", "bogus": "unknown command bogus"} {
		if got := string(udpReply([]byte(req), from)); got != want {
			t.Errorf("%q: %q, want %q", req, got, want)
		}
	}
}

func TestPrepareBusybox(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "busybox")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'sh\nnslookup\nwget'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/old/busybox", filepath.Join(dir, "stale")); err != nil {
		t.Fatal(err)
	}
	l := BusyboxLayout{Binary: bin, Self: "/bin/svcplane", Shell: "/bin/busybox", Dir: filepath.Join(dir, "applets")}
	os.MkdirAll(filepath.Join(l.Dir, "current"), 0o755)
	os.Symlink("/old/busybox", filepath.Join(l.Dir, "current", "wget"))
	for range 2 { // the second run finds everything in place
		dirs, err := PrepareBusybox(l)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range []string{dirs.Current, dirs.Libc} {
			for _, applet := range []string{"sh", "nslookup", "wget"} {
				target, err := os.Readlink(filepath.Join(d, applet))
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, filepath.Base(d)+"/"+applet+" -> "+target)
			}
		}
		want := []string{"current/sh -> " + bin, "current/nslookup -> " + bin, "current/wget -> " + bin,
			"libc/sh -> /bin/busybox", "libc/nslookup -> /bin/svcplane", "libc/wget -> " + bin}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("links (-want +got):\n%s", diff)
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
