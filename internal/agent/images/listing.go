package images

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Builtin is a built-in image as the node lists it in its status.images
// (what containerd would hold after pulling the real images): its
// repository digests, its tags and its size.
type Builtin struct {
	// RepoDigests are <repo>@sha256:<id> for each repository of RepoTags.
	RepoDigests []string
	// RepoTags are normalized references (docker.io/library/busybox:latest).
	RepoTags []string
	Size     int64
}

// listing is the references each built-in tree is listed under: the
// images' usual tags (any tag runs, but a node lists what it "pulled").
func (t Trees) listing() []struct {
	tree string
	refs []string
} {
	const e2e = "registry.k8s.io/e2e-test-images/"
	return []struct {
		tree string
		refs []string
	}{
		{t.Busybox, []string{"docker.io/library/busybox:latest", e2e + "busybox:1.36.1-1"}},
		{t.BusyboxLibc, []string{"docker.io/library/busybox:1.28"}},
		{t.Nginx, []string{"docker.io/library/nginx:latest", e2e + "nginx:1.14-4", e2e + "nginx:1.15-4"}},
		{t.Agnhost, []string{e2e + "agnhost:2.53"}},
		{t.Pause, []string{"registry.k8s.io/pause:3.10"}},
		{t.Httpd, []string{e2e + "httpd:2.4.38-4", e2e + "httpd:2.4.39-4"}},
		{t.Dnsutils, []string{e2e + "jessie-dnsutils:1.7"}},
		{t.KubeProxy, []string{"registry.k8s.io/kube-proxy:v1.32.0"}},
		{t.CoreDNS, []string{"registry.k8s.io/coredns/coredns:v1.11.3"}},
	}
}

// Builtins lists the built-in images as a node reports them.
func (t Trees) Builtins() []Builtin {
	var out []Builtin
	for _, l := range t.listing() {
		if l.tree == "" {
			continue
		}
		b := Builtin{RepoTags: l.refs, Size: t.Sizes[l.tree]}
		seen := map[string]bool{}
		for _, ref := range l.refs {
			repo := repository(ref)
			if !seen[repo] {
				seen[repo] = true
				b.RepoDigests = append(b.RepoDigests, repo+"@"+t.treeID(l.tree))
			}
		}
		out = append(out, b)
	}
	return out
}

// treeID is a built-in tree's image ID: a digest of its name and size,
// so that it changes when a new svcplane lays the tree out differently.
func (t Trees) treeID(tree string) string {
	sum := sha256.Sum256([]byte("svcplane-builtin/" + filepath.Base(tree) + "/" + strconv.FormatInt(t.Sizes[tree], 10)))
	return "sha256:" + hex.EncodeToString(sum[:])
}

// size is the bytes of a built-in container's image, for the Pulled
// event; repoDigest its imageID (<repo>@sha256:<id>).
func (t Trees) size(tree string) int64 { return t.Sizes[tree] }

func (t Trees) repoDigest(tree, ref string) string {
	return repository(normalize(ref)) + "@" + t.treeID(tree)
}

// repository is a normalized reference without its tag or digest.
func repository(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i]
	}
	return ref
}

// normalize spells a reference as containerd does: docker.io and
// library/ for Docker Hub's short names, :latest when it has no tag.
func normalize(ref string) string {
	name, digest, hasDigest := strings.Cut(ref, "@")
	first, _, hasSlash := strings.Cut(name, "/")
	if !hasSlash || !strings.ContainsAny(first, ".:") && first != "localhost" {
		if !hasSlash {
			name = "library/" + name
		}
		name = "docker.io/" + name
	}
	if hasDigest {
		return name + "@" + digest
	}
	if repository(name) == name {
		name += ":latest"
	}
	return name
}

// treeSizes measures each tree: the bytes of its regular files, each
// hard-linked file once.
func treeSizes(dirs ...string) map[string]int64 {
	out := map[string]int64{}
	for _, dir := range dirs {
		seen := map[uint64]bool{}
		var total int64
		_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
			if err != nil || !d.Type().IsRegular() {
				return nil
			}
			fi, err := d.Info()
			if err != nil {
				return nil
			}
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				if seen[st.Ino] {
					return nil
				}
				seen[st.Ino] = true
			}
			total += fi.Size()
			return nil
		})
		out[dir] = total
	}
	return out
}
