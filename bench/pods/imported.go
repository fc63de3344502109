package main

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/svcplane/svcplane/internal/agent/imagestore"
	"github.com/svcplane/svcplane/internal/agent/imagestore/imagetest"
)

// image is what a container's root is made of: its layers (lowest first)
// and the svcplane binary bound in ("" for an imported image).
type image struct {
	layers []string
	self   string
}

func (n *node) builtin() image { return image{layers: []string{n.trees.Busybox}, self: n.bin} }

// importImage imports a one-layer image of the busybox binary (with its
// sleep link and the /etc files a user lookup reads), built as the tests
// build theirs, into a store under the node's directory.
func (n *node) importImage() (image, error) {
	bb, err := imagetest.HostFile("bin/busybox", n.busybox)
	if err != nil {
		return image{}, err
	}
	layer := imagetest.Layer{
		imagetest.Dir("bin"), bb, imagetest.Symlink("bin/sleep", "busybox"), imagetest.Dir("etc"),
		imagetest.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", 0o644),
		imagetest.File("etc/group", "root:x:0:\n", 0o644),
	}
	archive := filepath.Join(n.dir, "image.tar")
	spec := imagetest.Spec{Refs: []string{"bench.example/sleep:1"}, Layers: []imagetest.Layer{layer}}
	if err := imagetest.WriteDocker(archive, spec); err != nil {
		return image{}, err
	}
	store, err := imagestore.Open(filepath.Join(n.dir, "store"))
	if err != nil {
		return image{}, err
	}
	imgs, err := store.Import(context.Background(), archive)
	if err != nil {
		return image{}, err
	}
	if len(imgs) != 1 {
		return image{}, fmt.Errorf("imported %d images, want 1", len(imgs))
	}
	return image{layers: imgs[0].Layers}, nil
}
