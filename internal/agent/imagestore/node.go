package imagestore

import (
	"sort"

	corev1 "k8s.io/api/core/v1"
)

// Limits of the kubelet's node status (pkg/kubelet/nodestatus).
const (
	maxNodeImages     = 50
	maxNamesPerImages = 5
)

// NodeImages returns the store's images as the kubelet reports them in a
// Node's status.images: largest first, at most 50, each named by its repo
// digests then its references (at most 5 names).
func (s *Store) NodeImages() ([]corev1.ContainerImage, error) {
	imgs, err := s.List()
	if err != nil {
		return nil, err
	}
	return NodeImages(imgs), nil
}

// NodeImages is the status.images of a node holding imgs.
func NodeImages(imgs []Image) []corev1.ContainerImage {
	sorted := append([]Image(nil), imgs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Size > sorted[j].Size })
	if len(sorted) > maxNodeImages {
		sorted = sorted[:maxNodeImages]
	}
	out := make([]corev1.ContainerImage, 0, len(sorted))
	for _, img := range sorted {
		names := append(append([]string(nil), img.RepoDigests...), img.Refs...)
		if len(names) > maxNamesPerImages {
			names = names[:maxNamesPerImages]
		}
		out = append(out, corev1.ContainerImage{Names: names, SizeBytes: img.Size})
	}
	return out
}
