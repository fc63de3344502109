package volumes

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/agent/downward"
)

// Objects reads the ConfigMaps and Secrets volumes show.
type Objects interface {
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
}

// notFoundAs words a NotFound error as the kubelet's object managers do:
// `configmap "x" not found`, with the singular resource.
func notFoundAs(err error, resource, name string) error {
	if apierrors.IsNotFound(err) {
		return apierrors.NewNotFound(schema.GroupResource{Resource: resource}, name)
	}
	return err
}

func modeOf(item *int32, def *int32) os.FileMode {
	switch {
	case item != nil:
		return os.FileMode(*item)
	case def != nil:
		return os.FileMode(*def)
	}
	return 0o644
}

// keyedPayload is the files of a ConfigMap or Secret: every key, or the
// listed items (key -> path, mode). A key missing from the data fails
// unless the volume is optional; kind words the error as kubelet
// ("configmap references non-existent config key: k").
func keyedPayload(data map[string][]byte, items []corev1.KeyToPath, defMode *int32, optional bool, missingKey string) (map[string]File, error) {
	out := map[string]File{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = File{Data: v, Mode: modeOf(nil, defMode)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional {
				continue
			}
			return nil, fmt.Errorf("%s: %s", missingKey, it.Key)
		}
		out[it.Path] = File{Data: v, Mode: modeOf(it.Mode, defMode)}
	}
	return out, nil
}

// configMapPayload is a configMap volume's (or projection's) files; a
// missing ConfigMap is no files when optional.
func configMapPayload(ctx context.Context, objs Objects, ns, name string, items []corev1.KeyToPath, defMode *int32, optional *bool) (map[string]File, error) {
	opt := optional != nil && *optional
	cm, err := objs.ConfigMap(ctx, ns, name)
	if err != nil {
		if apierrors.IsNotFound(err) && opt {
			return map[string]File{}, nil
		}
		return nil, notFoundAs(err, "configmap", name)
	}
	data := make(map[string][]byte, len(cm.Data)+len(cm.BinaryData))
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	return keyedPayload(data, items, defMode, opt, "configmap references non-existent config key")
}

// secretPayload is a secret volume's (or projection's) files.
func secretPayload(ctx context.Context, objs Objects, ns, name string, items []corev1.KeyToPath, defMode *int32, optional *bool) (map[string]File, error) {
	opt := optional != nil && *optional
	s, err := objs.Secret(ctx, ns, name)
	if err != nil {
		if apierrors.IsNotFound(err) && opt {
			return map[string]File{}, nil
		}
		return nil, notFoundAs(err, "secret", name)
	}
	return keyedPayload(s.Data, items, defMode, opt, "references non-existent secret key")
}

// downwardPayload is a downwardAPI volume's files: pod fields
// (metadata.name, namespace, uid, labels, annotations) and container
// resources.
func downwardPayload(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defMode *int32, nodeCPUs int) (map[string]File, error) {
	out := map[string]File{}
	for _, it := range items {
		var v string
		switch {
		case it.FieldRef != nil:
			var err error
			if v, err = downward.FieldValue(pod, it.FieldRef.FieldPath); err != nil {
				return nil, err
			}
		case it.ResourceFieldRef != nil:
			c := findContainer(pod, it.ResourceFieldRef.ContainerName)
			if c == nil {
				return nil, fmt.Errorf("container %q not found in pod for resource %s", it.ResourceFieldRef.ContainerName, it.ResourceFieldRef.Resource)
			}
			v = downward.ResourceValue(c, it.ResourceFieldRef, nodeCPUs)
		default:
			continue
		}
		out[it.Path] = File{Data: []byte(v), Mode: modeOf(it.Mode, defMode)}
	}
	return out, nil
}

func findContainer(pod *corev1.Pod, name string) *corev1.Container {
	for _, list := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for i := range list {
			if list[i].Name == name || (name == "" && len(list) == 1) {
				return &list[i]
			}
		}
	}
	return nil
}

// projectedPayload joins the files of a projected volume's sources (a
// later source's file wins a path, as kubelet's).
func (m *Manager) projectedPayload(ctx context.Context, pod *corev1.Pod, p *corev1.ProjectedVolumeSource) (map[string]File, error) {
	out := map[string]File{}
	for _, src := range p.Sources {
		var files map[string]File
		var err error
		switch {
		case src.ConfigMap != nil:
			s := src.ConfigMap
			files, err = configMapPayload(ctx, m.cfg.Objects, pod.Namespace, s.Name, s.Items, p.DefaultMode, s.Optional)
		case src.Secret != nil:
			s := src.Secret
			files, err = secretPayload(ctx, m.cfg.Objects, pod.Namespace, s.Name, s.Items, p.DefaultMode, s.Optional)
		case src.DownwardAPI != nil:
			files, err = downwardPayload(pod, src.DownwardAPI.Items, p.DefaultMode, m.cfg.NodeCPUs)
		case src.ServiceAccountToken != nil:
			files, err = m.tokenPayload(ctx, pod, src.ServiceAccountToken, p.DefaultMode)
		default:
			err = fmt.Errorf("projected source not supported by svcplane (clusterTrustBundle or podCertificate)")
		}
		if err != nil {
			return nil, err
		}
		for path, f := range files {
			out[path] = f
		}
	}
	return out, nil
}
