package imagestore

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// dockerHub is how containerd and the kubelet spell Docker Hub's registry;
// go-containerregistry spells it index.docker.io.
const dockerHub = "docker.io"

// Normalize returns ref as containerd and the kubelet name it:
// busybox -> docker.io/library/busybox:latest,
// nginx@sha256:… -> docker.io/library/nginx@sha256:….
func Normalize(ref string) (string, error) {
	r, err := name.ParseReference(ref)
	if err != nil {
		return "", fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	repo := repoName(r.Context())
	switch r := r.(type) {
	case name.Digest:
		return repo + "@" + r.DigestStr(), nil
	case name.Tag:
		return repo + ":" + r.TagStr(), nil
	}
	return "", fmt.Errorf("invalid image reference %q", ref)
}

// repoName is a repository's normalized name (docker.io/library/busybox).
func repoName(r name.Repository) string {
	reg := r.RegistryStr()
	if reg == name.DefaultRegistry {
		reg = dockerHub
	}
	return reg + "/" + r.RepositoryStr()
}

// splitRef returns a normalized reference's repository and its tag (or
// digest, with its "@").
func splitRef(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, "@"); i >= 0 {
		return ref[:i], ref[i:]
	}
	i := strings.LastIndex(ref, ":")
	if i < 0 || strings.Contains(ref[i:], "/") {
		return ref, ""
	}
	return ref[:i], ref[i+1:]
}

// idQuery says whether s names an image by ID: sha256:<hex>, <64 hex> or
// a hex prefix; it returns the hex part.
func idQuery(s string) (hex string, full, ok bool) {
	if h, found := strings.CutPrefix(s, "sha256:"); found {
		return h, len(h) == 64, isHex(h) && h != ""
	}
	return s, len(s) == 64, len(s) >= 3 && isHex(s)
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
