package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	corev1 "k8s.io/api/core/v1"
)

// Mount is one volume bound into a container.
type Mount struct {
	// Source is the path on the node; Destination the path in the
	// container.
	Source      string
	Destination string
	ReadOnly    bool
}

// ContainerMounts resolves a container's volumeMounts against the pod's
// prepared volumes. A subPath (or subPathExpr, expanded by expand with
// the container's variables) is resolved inside the volume, never out of
// it through a symbolic link, and created as a directory when missing,
// as kubelet does. mountPropagation is not applied.
func ContainerMounts(c *corev1.Container, vols map[string]Volume, expand func(string) string) ([]Mount, error) {
	var out []Mount
	for _, vm := range c.VolumeMounts {
		v, ok := vols[vm.Name]
		if !ok {
			return nil, fmt.Errorf("cannot find volume %q to mount into container %q", vm.Name, c.Name)
		}
		src := v.Path
		sub := vm.SubPath
		if vm.SubPathExpr != "" {
			sub = expand(vm.SubPathExpr)
		}
		if sub != "" {
			var err error
			if src, err = subPath(v.Path, sub); err != nil {
				return nil, fmt.Errorf("failed to prepare subPath for volumeMount %q of container %q: %w", vm.Name, c.Name, err)
			}
		}
		out = append(out, Mount{Source: src, Destination: vm.MountPath, ReadOnly: vm.ReadOnly || v.ReadOnly})
	}
	return out, nil
}

func subPath(volume, sub string) (string, error) {
	if filepath.IsAbs(sub) || slices.Contains(strings.Split(sub, "/"), "..") {
		return "", fmt.Errorf("subPath %q must be a relative path without '..'", sub)
	}
	path, err := securejoin.SecureJoin(volume, sub)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(path, 0o755); err != nil {
			return "", err
		}
	}
	return path, nil
}
