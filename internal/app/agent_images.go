package app

import (
	"log/slog"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/imagestore"
)

// nodeImages is the Node's status.images: the imported images and the
// built-in ones (without the tags an imported image took over), as the
// kubelet reports them.
func nodeImages(store *imagestore.Store, trees images.Trees, log *slog.Logger) []corev1.ContainerImage {
	imgs, err := store.List()
	if err != nil {
		log.Warn("list images", "err", err)
	}
	return imagestore.NodeImages(withBuiltins(imgs, trees.Builtins()))
}

// withBuiltins adds the built-in images to the imported ones; a tag an
// imported image holds is that image's.
func withBuiltins(imgs []imagestore.Image, builtins []images.Builtin) []imagestore.Image {
	taken := map[string]bool{}
	for _, img := range imgs {
		for _, ref := range img.Refs {
			taken[ref] = true
		}
	}
	out := slices.Clone(imgs)
	for _, b := range builtins {
		tags := slices.DeleteFunc(slices.Clone(b.RepoTags), func(ref string) bool { return taken[ref] })
		if len(tags) == 0 {
			continue
		}
		out = append(out, imagestore.Image{RepoDigests: b.RepoDigests, Refs: tags, Size: b.Size})
	}
	return out
}
