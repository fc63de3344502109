package volume

import (
	"context"
	"fmt"
	"path/filepath"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// LocalPathProvisioner is the provisioner name of the local-path class,
// k3s's.
const LocalPathProvisioner = "rancher.io/local-path"

// helperPodPrefix names the pods that remove a deleted volume's
// directory on its node, as k3s's provisioner names them.
const helperPodPrefix = "helper-pod-delete-"

// LocalPathConfig configures the local-path provisioner: each volume is
// the directory <Dir>/<pv>_<namespace>_<claim> on the node the scheduler
// chose for the claim's first pod, a hostPath volume (DirectoryOrCreate:
// the node's agent makes it on first mount) with node affinity to that
// node. Deleting one runs a helper pod on the node that removes the
// directory.
type LocalPathConfig struct {
	// Dir is the nodes' storage directory (default
	// /var/lib/svcplane/storage).
	Dir string
	// Namespace holds the helper pods (default kube-system); Image runs
	// them (default busybox).
	Namespace, Image string
}

func (l *LocalPathConfig) defaults() {
	if l.Dir == "" {
		l.Dir = "/var/lib/svcplane/storage"
	}
	if l.Namespace == "" {
		l.Namespace = "kube-system"
	}
	if l.Image == "" {
		l.Image = "busybox"
	}
}

// LocalPathVolume is the volume local-path provisions for claim on node.
func LocalPathVolume(cfg LocalPathConfig, claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node string) *corev1.PersistentVolume {
	name := "pvc-" + string(claim.UID)
	dirType := corev1.HostPathDirectoryOrCreate
	policy := corev1.PersistentVolumeReclaimDelete
	if class.ReclaimPolicy != nil {
		policy = *class.ReclaimPolicy
	}
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{AnnProvisionedBy: LocalPathProvisioner}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:    corev1.ResourceList{corev1.ResourceStorage: claim.Spec.Resources.Requests[corev1.ResourceStorage]},
			AccessModes: claim.Spec.AccessModes, PersistentVolumeReclaimPolicy: policy, StorageClassName: class.Name,
			VolumeMode: claim.Spec.VolumeMode, MountOptions: class.MountOptions,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: claim.Namespace,
				Name: claim.Name, UID: claim.UID, ResourceVersion: claim.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{
				Path: filepath.Join(cfg.Dir, name+"_"+claim.Namespace+"_"+claim.Name), Type: &dirType}},
			NodeAffinity: &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{node}}},
			}}}},
		},
	}
}

// provisionLocalPath creates the claim's volume on its selected node.
func (c *Controller) provisionLocalPath(ctx context.Context, claim *corev1.PersistentVolumeClaim, class *storagev1.StorageClass, node *corev1.Node) error {
	rec := c.cfg.ProvisionerRecorder
	if node == nil {
		rec.Event(claim, corev1.EventTypeWarning, "ProvisioningFailed", "failed to provision volume with StorageClass \""+class.Name+"\": configuration error, no node was specified")
		return nil
	}
	hostname := node.Labels[corev1.LabelHostname]
	if hostname == "" {
		hostname = node.Name
	}
	pv := LocalPathVolume(c.cfg.LocalPath, claim, class, hostname)
	if _, err := c.volumes.Get(pv.Name); err == nil {
		return nil
	}
	rec.Eventf(claim, corev1.EventTypeNormal, "Provisioning", "External provisioner is provisioning volume for claim \"%s/%s\"", claim.Namespace, claim.Name)
	_, err := c.cfg.Client.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil
	case err != nil:
		rec.Eventf(claim, corev1.EventTypeWarning, "ProvisioningFailed", "failed to provision volume with StorageClass %q: %v", class.Name, err)
		return err
	}
	rec.Eventf(claim, corev1.EventTypeNormal, "ProvisioningSucceeded", "Successfully provisioned volume %s", pv.Name)
	return nil
}

// deleteLocalPath removes a released local-path volume: a helper pod on
// its node removes the directory, then the volume goes.
func (c *Controller) deleteLocalPath(ctx context.Context, pv *corev1.PersistentVolume) error {
	ns := c.cfg.LocalPath.Namespace
	pod, err := c.pods.Pods(ns).Get(helperPodPrefix + pv.Name)
	if apierrors.IsNotFound(err) {
		return c.startHelper(ctx, pv)
	}
	if err != nil {
		return err
	}
	switch pod.Status.Phase {
	case corev1.PodSucceeded:
		err := c.cfg.Client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return ignoreNotFound(c.cfg.Client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}))
	case corev1.PodFailed:
		c.cfg.ProvisionerRecorder.Eventf(pv, corev1.EventTypeWarning, "VolumeFailedDelete", "failed to delete volume %s: helper pod %s failed", pv.Name, pod.Name)
		return ignoreNotFound(c.cfg.Client.CoreV1().Pods(ns).Delete(ctx, pod.Name, metav1.DeleteOptions{}))
	}
	return nil
}

// startHelper creates the pod that removes the volume's directory on its
// node.
func (c *Controller) startHelper(ctx context.Context, pv *corev1.PersistentVolume) error {
	node := volumeNode(pv)
	if node == "" || pv.Spec.HostPath == nil {
		return c.cfg.Client.CoreV1().PersistentVolumes().Delete(ctx, pv.Name, metav1.DeleteOptions{})
	}
	_, err := c.cfg.Client.CoreV1().Pods(c.cfg.LocalPath.Namespace).Create(ctx, HelperPod(c.cfg.LocalPath, pv, node), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("start helper pod of %s: %w", pv.Name, err)
	}
	return nil
}

// volumeNode is the node a local-path volume's affinity names.
func volumeNode(pv *corev1.PersistentVolume) string {
	na := pv.Spec.NodeAffinity
	if na == nil || na.Required == nil {
		return ""
	}
	for _, t := range na.Required.NodeSelectorTerms {
		for _, e := range t.MatchExpressions {
			if e.Key == corev1.LabelHostname && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
				return e.Values[0]
			}
		}
	}
	return ""
}

// HelperPod is the pod that removes a volume's directory: its parent
// directory mounted, `rm -rf` of the volume's.
func HelperPod(cfg LocalPathConfig, pv *corev1.PersistentVolume, node string) *corev1.Pod {
	dir := pv.Spec.HostPath.Path
	parent := filepath.Dir(dir)
	dirType := corev1.HostPathDirectoryOrCreate
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: helperPodPrefix + pv.Name, Namespace: cfg.Namespace},
		Spec: corev1.PodSpec{
			NodeName: node, RestartPolicy: corev1.RestartPolicyNever,
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists}},
			Containers: []corev1.Container{{Name: "helper-pod", Image: cfg.Image, Command: []string{"/bin/sh", "-c", "rm -rf \"$VOL_DIR\""},
				Env:          []corev1.EnvVar{{Name: "VOL_DIR", Value: filepath.Join("/data", filepath.Base(dir))}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: parent, Type: &dirType}}}},
		},
	}
}
