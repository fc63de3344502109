package images

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"busybox":                         "docker.io/library/busybox:latest",
		"busybox:1.28":                    "docker.io/library/busybox:1.28",
		"library/nginx":                   "docker.io/library/nginx:latest",
		"bitnami/nginx:1":                 "docker.io/bitnami/nginx:1",
		"registry.k8s.io/pause:3.10":      "registry.k8s.io/pause:3.10",
		"localhost/app":                   "localhost/app:latest",
		"localhost:5000/app":              "localhost:5000/app:latest",
		"busybox@sha256:abc":              "docker.io/library/busybox@sha256:abc",
		"docker.io/library/busybox:1.36":  "docker.io/library/busybox:1.36",
		"registry.k8s.io/e2e-test-images": "registry.k8s.io/e2e-test-images:latest",
	} {
		if got := normalize(in); got != want {
			t.Errorf("normalize(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestBuiltins: every built-in tree is listed with its repository digests
// and usual tags, sized by its files (a hard link counted once), and a
// container of a built-in image reports the same digest as its imageID.
func TestBuiltins(t *testing.T) {
	dir := t.TempDir()
	trees := Trees{Busybox: filepath.Join(dir, "busybox"), BusyboxLibc: filepath.Join(dir, "busybox-1.28"), Nginx: filepath.Join(dir, "nginx"),
		Agnhost: filepath.Join(dir, "agnhost"), Pause: filepath.Join(dir, "pause"), Httpd: filepath.Join(dir, "httpd"), Dnsutils: filepath.Join(dir, "jessie-dnsutils")}
	if err := os.MkdirAll(filepath.Join(trees.Busybox, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(trees.Busybox, "bin/busybox"), make([]byte, 1000), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(trees.Busybox, "bin/busybox"), filepath.Join(trees.Busybox, "bin/sh")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("busybox", filepath.Join(trees.Busybox, "bin/ls")); err != nil {
		t.Fatal(err)
	}
	trees.Sizes = treeSizes(trees.Busybox, trees.BusyboxLibc, trees.Nginx, trees.Agnhost, trees.Pause, trees.Httpd, trees.Dnsutils)
	list := trees.Builtins()
	if len(list) != 7 {
		t.Fatalf("%d built-in images: %+v", len(list), list)
	}
	bb := list[0]
	digest := regexp.MustCompile(`^docker\.io/library/busybox@sha256:[0-9a-f]{64}$`)
	if bb.Size != 1000 || len(bb.RepoDigests) != 2 || !digest.MatchString(bb.RepoDigests[0]) ||
		!slices.Equal(bb.RepoTags, []string{"docker.io/library/busybox:latest", "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"}) {
		t.Errorf("busybox: %+v", bb)
	}
	if list[1].RepoDigests[0] == bb.RepoDigests[0] {
		t.Errorf("busybox:1.28 has busybox's digest %s", bb.RepoDigests[0])
	}
	for _, b := range list {
		if len(b.RepoDigests)+len(b.RepoTags) > 5 {
			t.Errorf("more names than the kubelet lists: %+v", b)
		}
	}
	r := NewResolver(Config{Trees: trees})
	res, err := r.Resolve(&corev1.Container{Image: "busybox"})
	if err != nil {
		t.Fatal(err)
	}
	if res.RepoDigest != bb.RepoDigests[0] || res.Size != 1000 {
		t.Errorf("busybox resolves to %s (%d bytes), listed as %s", res.RepoDigest, res.Size, bb.RepoDigests[0])
	}
	res, _ = r.Resolve(&corev1.Container{Image: "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"})
	if res.RepoDigest != bb.RepoDigests[1] {
		t.Errorf("e2e busybox resolves to %s, listed as %s", res.RepoDigest, bb.RepoDigests[1])
	}
}
