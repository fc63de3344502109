package app

import (
	"slices"
	"testing"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/imagestore"
)

// TestNodeImagesWithBuiltins: the node lists imported and built-in
// images, largest first; an imported image takes a built-in tag over.
func TestNodeImagesWithBuiltins(t *testing.T) {
	imported := []imagestore.Image{{ID: "sha256:1", Refs: []string{"docker.io/library/busybox:latest"}, Size: 5000}}
	builtins := []images.Builtin{
		{RepoDigests: []string{"docker.io/library/busybox@sha256:b", "registry.k8s.io/e2e-test-images/busybox@sha256:b"},
			RepoTags: []string{"docker.io/library/busybox:latest", "registry.k8s.io/e2e-test-images/busybox:1.36.1-1"}, Size: 100},
		{RepoDigests: []string{"registry.k8s.io/pause@sha256:p"}, RepoTags: []string{"registry.k8s.io/pause:3.10"}, Size: 9000},
		{RepoDigests: []string{"docker.io/library/x@sha256:x"}, RepoTags: []string{"docker.io/library/busybox:latest"}, Size: 1},
	}
	got := imagestore.NodeImages(withBuiltins(imported, builtins))
	if len(got) != 3 {
		t.Fatalf("%d images: %+v", len(got), got)
	}
	if !slices.Equal(got[0].Names, []string{"registry.k8s.io/pause@sha256:p", "registry.k8s.io/pause:3.10"}) || got[0].SizeBytes != 9000 {
		t.Errorf("largest first: %+v", got[0])
	}
	if !slices.Equal(got[1].Names, []string{"docker.io/library/busybox:latest"}) {
		t.Errorf("imported: %+v", got[1])
	}
	if !slices.Equal(got[2].Names, []string{"docker.io/library/busybox@sha256:b", "registry.k8s.io/e2e-test-images/busybox@sha256:b",
		"registry.k8s.io/e2e-test-images/busybox:1.36.1-1"}) {
		t.Errorf("built-in without the imported tag: %+v", got[2])
	}
}
