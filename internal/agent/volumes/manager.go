// Package volumes prepares a pod's volumes on the node, as the kubelet's
// volume plugins do, for the runtime to bind into its containers: each
// volume is a directory under the pod's directory (Root/<uid>/volumes/
// <plugin>/<name>, kubelet's names), or for hostPath the node's own path.
//
// emptyDir is a directory (medium Memory: a tmpfs, sized by sizeLimit);
// configMap, secret, downwardAPI and projected volumes hold files written
// in kubelet's atomic-writer layout (see WriteAtomic) and are written
// again on every Setup, so updates of the objects reach running pods;
// projected serviceAccountToken files carry a token the API issued for
// the pod, renewed as kubelet's token manager renews it; hostPath is
// checked against its type; persistentVolumeClaim is its bound volume's
// node directory (hostPath or local). Teardown unmounts and removes a pod's
// volumes; Orphans does it for pods the node no longer runs.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/moby/sys/mountinfo"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Config configures a Manager.
type Config struct {
	// Root holds one directory per pod (by UID).
	Root string
	// Objects reads ConfigMaps and Secrets; Tokens asks for
	// ServiceAccount tokens.
	Objects Objects
	Tokens  TokenRequester
	// Claims reads claims and volumes for persistentVolumeClaim volumes;
	// nil supports none.
	Claims Claims
	// NodeCPUs is what a cpu limit that is not set reads as.
	NodeCPUs int
	Now      func() time.Time
	Logger   *slog.Logger
}

// Manager prepares and removes pods' volumes.
type Manager struct {
	cfg    Config
	tokens *tokens
}

// New returns a Manager.
func New(cfg Config) *Manager {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Manager{cfg: cfg, tokens: &tokens{req: cfg.Tokens, now: cfg.Now, got: map[tokenKey]token{}}}
}

// Volume is a prepared volume.
type Volume struct {
	// Path is the directory (or for hostPath, the file) on the node.
	Path string
	// ReadOnly volumes are always mounted read-only (configMap, secret,
	// downwardAPI, projected).
	ReadOnly bool
}

// SetupError is a volume that could not be prepared; its text is the
// kubelet's FailedMount event message.
type SetupError struct {
	Volume string
	Err    error
}

func (e *SetupError) Error() string {
	return fmt.Sprintf("MountVolume.SetUp failed for volume %q : %v", e.Volume, e.Err)
}

func (e *SetupError) Unwrap() error { return e.Err }

// Kubelet's plugin directory names.
const (
	pluginEmptyDir  = "kubernetes.io~empty-dir"
	pluginConfigMap = "kubernetes.io~configmap"
	pluginSecret    = "kubernetes.io~secret"
	pluginDownward  = "kubernetes.io~downward-api"
	pluginProjected = "kubernetes.io~projected"
)

// PodDir is the directory of a pod's volumes.
func (m *Manager) PodDir(uid types.UID) string { return filepath.Join(m.cfg.Root, string(uid)) }

func (m *Manager) volumeDir(uid types.UID, plugin, name string) string {
	return filepath.Join(m.PodDir(uid), "volumes", plugin, name)
}

// Setup prepares (or refreshes) every volume of the pod and returns them
// by name. The first volume that fails stops it, as a *SetupError.
func (m *Manager) Setup(ctx context.Context, pod *corev1.Pod) (map[string]Volume, error) {
	out := make(map[string]Volume, len(pod.Spec.Volumes))
	for i := range pod.Spec.Volumes {
		v := &pod.Spec.Volumes[i]
		vol, err := m.setupOne(ctx, pod, v)
		if err != nil {
			return nil, &SetupError{Volume: v.Name, Err: err}
		}
		out[v.Name] = vol
	}
	return out, nil
}

func (m *Manager) setupOne(ctx context.Context, pod *corev1.Pod, v *corev1.Volume) (Volume, error) {
	src := &v.VolumeSource
	switch {
	case src.EmptyDir != nil:
		return m.emptyDir(pod.UID, v.Name, src.EmptyDir)
	case src.HostPath != nil:
		if err := CheckHostPath(src.HostPath.Path, src.HostPath.Type); err != nil {
			return Volume{}, err
		}
		return Volume{Path: src.HostPath.Path}, nil
	case src.ConfigMap != nil:
		s := src.ConfigMap
		return m.files(pod.UID, pluginConfigMap, v.Name, func() (map[string]File, error) {
			return configMapPayload(ctx, m.cfg.Objects, pod.Namespace, s.Name, s.Items, s.DefaultMode, s.Optional)
		})
	case src.Secret != nil:
		s := src.Secret
		return m.files(pod.UID, pluginSecret, v.Name, func() (map[string]File, error) {
			return secretPayload(ctx, m.cfg.Objects, pod.Namespace, s.SecretName, s.Items, s.DefaultMode, s.Optional)
		})
	case src.DownwardAPI != nil:
		s := src.DownwardAPI
		return m.files(pod.UID, pluginDownward, v.Name, func() (map[string]File, error) {
			return downwardPayload(pod, s.Items, s.DefaultMode, m.cfg.NodeCPUs)
		})
	case src.Projected != nil:
		return m.files(pod.UID, pluginProjected, v.Name, func() (map[string]File, error) {
			return m.projectedPayload(ctx, pod, src.Projected)
		})
	case src.PersistentVolumeClaim != nil:
		return m.claim(ctx, pod.Namespace, src.PersistentVolumeClaim)
	}
	return Volume{}, errors.New("volume source not supported by svcplane's agent (emptyDir, configMap, secret, downwardAPI, projected, hostPath and persistentVolumeClaim are)")
}

// emptyDir makes the volume's directory, world-writable as kubelet's; a
// Memory medium gets a tmpfs (sizeLimit as its size), mounted once.
func (m *Manager) emptyDir(uid types.UID, name string, src *corev1.EmptyDirVolumeSource) (Volume, error) {
	dir := m.volumeDir(uid, pluginEmptyDir, name)
	if err := makeDir(dir); err != nil {
		return Volume{}, err
	}
	if src.Medium != corev1.StorageMediumMemory {
		return Volume{Path: dir}, nil
	}
	mounted, err := mountinfo.Mounted(dir)
	if err != nil || mounted {
		return Volume{Path: dir}, err
	}
	opts := "mode=0777"
	if src.SizeLimit != nil && !src.SizeLimit.IsZero() {
		opts += ",size=" + strconv.FormatInt(src.SizeLimit.Value(), 10)
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, opts); err != nil {
		return Volume{}, fmt.Errorf("mount tmpfs for emptyDir %s: %w", name, err)
	}
	return Volume{Path: dir}, nil
}

// files writes a volume of files through the atomic writer.
func (m *Manager) files(uid types.UID, plugin, name string, payload func() (map[string]File, error)) (Volume, error) {
	files, err := payload()
	if err != nil {
		return Volume{}, err
	}
	dir := m.volumeDir(uid, plugin, name)
	if err := makeDir(dir); err != nil {
		return Volume{}, err
	}
	changed, err := WriteAtomic(dir, files, m.cfg.Now())
	if err != nil {
		return Volume{}, fmt.Errorf("write volume files: %w", err)
	}
	if changed {
		m.cfg.Logger.Debug("volume written", "dir", dir, "files", len(files))
	}
	return Volume{Path: dir, ReadOnly: true}, nil
}

func makeDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	return os.Chmod(dir, 0o777) // MkdirAll honours the umask
}

// Teardown unmounts and removes a pod's volumes and forgets its tokens.
// Nothing is removed below a mount that would not come off.
func (m *Manager) Teardown(uid types.UID) error {
	m.tokens.forget(uid)
	dir := m.PodDir(uid)
	if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err := unmountUnder(dir); err != nil {
		return fmt.Errorf("remove volumes of pod %s: %w", uid, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove volumes of pod %s: %w", uid, err)
	}
	return nil
}

// unmountUnder unmounts every mount at or below dir, deepest first.
func unmountUnder(dir string) error {
	mounts, err := mountinfo.GetMounts(mountinfo.PrefixFilter(dir))
	if err != nil {
		return err
	}
	slices.SortFunc(mounts, func(a, b *mountinfo.Info) int { return len(b.Mountpoint) - len(a.Mountpoint) })
	for _, mt := range mounts {
		if err := unix.Unmount(mt.Mountpoint, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("unmount %s: %w", mt.Mountpoint, err)
		}
	}
	return nil
}

// Orphans tears down the volumes of pods not in keep (pods deleted while
// the agent was away).
func (m *Manager) Orphans(keep map[types.UID]bool) error {
	entries, err := os.ReadDir(m.cfg.Root)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		uid := types.UID(e.Name())
		if !keep[uid] {
			m.cfg.Logger.Info("removing volumes of a pod gone", "uid", uid)
			errs = append(errs, m.Teardown(uid))
		}
	}
	return errors.Join(errs...)
}
