package pod

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Names of ServiceAccount admission, as upstream's.
const (
	DefaultServiceAccount = "default"
	// TokenVolumePrefix starts the name of the automatic volume
	// (kube-api-access-<5 random characters>).
	TokenVolumePrefix = "kube-api-access-"
	// TokenMountPath is where every container gets it.
	TokenMountPath = "/var/run/secrets/kubernetes.io/serviceaccount"
	// TokenExpirationSeconds is the lifetime asked for its token (an hour
	// and 7 s, which the API server may extend, see identity-rbac.md).
	TokenExpirationSeconds = 3607
	rootCAConfigMap        = "kube-root-ca.crt"
)

// AccountGetter reads a ServiceAccount from storage.
type AccountGetter func(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)

// Admission is the ServiceAccount admission plugin of the pod create
// path, as registry hooks: it names the `default` ServiceAccount when
// the pod names none, refuses a pod whose ServiceAccount does not exist,
// copies the account's imagePullSecrets and, unless the pod or the
// account opts out with automountServiceAccountToken: false, adds the
// kube-api-access projected volume (token, ca.crt, namespace) mounted
// read-only in every container and init container.
type Admission struct {
	Get AccountGetter
	// Tries and Wait: the default ServiceAccount is looked for Tries times
	// Wait apart, as the serviceaccount controller may not have made it
	// yet in a namespace just created (upstream retries the same way).
	Tries int
	Wait  time.Duration
	// Suffix makes the volume name's random part (rand.String(5) if nil).
	Suffix func() string
}

var _ registry.Hooks = Admission{}

// BeforeCreate admits a new pod.
func (a Admission) BeforeCreate(ctx context.Context, obj runtime.Object, _ bool) (registry.Pending, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok || isMirrorPod(pod) {
		return registry.Pending{}, nil
	}
	name := pod.Spec.ServiceAccountName
	if name == "" {
		name = pod.Spec.DeprecatedServiceAccount
	}
	if name == "" {
		name = DefaultServiceAccount
	}
	pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount = name, name
	sa, err := a.account(ctx, pod.Namespace, name)
	if err != nil {
		return registry.Pending{}, apierrors.NewForbidden(corev1.Resource("pods"), pod.Name,
			fmt.Errorf("error looking up service account %s/%s: %w", pod.Namespace, name, err))
	}
	if automount(sa, pod) {
		a.mountToken(pod)
	}
	if len(pod.Spec.ImagePullSecrets) == 0 && len(sa.ImagePullSecrets) > 0 {
		pod.Spec.ImagePullSecrets = append([]corev1.LocalObjectReference(nil), sa.ImagePullSecrets...)
	}
	return registry.Pending{}, nil
}

// BeforeUpdate admits nothing: the plugin acts on create only.
func (Admission) BeforeUpdate(context.Context, runtime.Object, runtime.Object, bool) (registry.Pending, error) {
	return registry.Pending{}, nil
}

// AfterDelete does nothing.
func (Admission) AfterDelete(context.Context, runtime.Object) {}

// account reads the ServiceAccount, waiting a little for the default one;
// a missing one reads `serviceaccount "x" not found` as upstream's.
func (a Admission) account(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	tries := 1
	if name == DefaultServiceAccount {
		tries = max(a.Tries, 1)
	}
	var err error
	for i := 0; i < tries; i++ {
		if i > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(a.Wait):
			}
		}
		var sa *corev1.ServiceAccount
		if sa, err = a.Get(ctx, ns, name); err == nil {
			return sa, nil
		}
		if !apierrors.IsNotFound(err) {
			return nil, err
		}
	}
	return nil, apierrors.NewNotFound(corev1.Resource("serviceaccount"), name)
}

func isMirrorPod(pod *corev1.Pod) bool {
	_, ok := pod.Annotations[corev1.MirrorPodAnnotationKey]
	return ok
}

// automount: the pod's automountServiceAccountToken wins, then the
// account's; the default is true.
func automount(sa *corev1.ServiceAccount, pod *corev1.Pod) bool {
	if pod.Spec.AutomountServiceAccountToken != nil {
		return *pod.Spec.AutomountServiceAccountToken
	}
	if sa.AutomountServiceAccountToken != nil {
		return *sa.AutomountServiceAccountToken
	}
	return true
}

// mountToken mounts the token volume (an existing kube-api-access-*
// volume is reused) into each container without a mount at its path,
// and adds the volume if any container needed it.
func (a Admission) mountToken(pod *corev1.Pod) {
	volName := ""
	for _, v := range pod.Spec.Volumes {
		if strings.HasPrefix(v.Name, TokenVolumePrefix) {
			volName = v.Name
			break
		}
	}
	has := volName != ""
	if !has {
		suffix := rand.String(5)
		if a.Suffix != nil {
			suffix = a.Suffix()
		}
		volName = TokenVolumePrefix + suffix
	}
	mount := corev1.VolumeMount{Name: volName, ReadOnly: true, MountPath: TokenMountPath}
	needed := false
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if !mountsAt(&list[i], TokenMountPath) {
				list[i].VolumeMounts = append(list[i].VolumeMounts, mount)
				needed = true
			}
		}
	}
	if !has && needed {
		pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: volName,
			VolumeSource: corev1.VolumeSource{Projected: TokenVolumeSource()}})
	}
}

func mountsAt(c *corev1.Container, path string) bool {
	for _, m := range c.VolumeMounts {
		if m.MountPath == path {
			return true
		}
	}
	return false
}

// TokenVolumeSource is the automatic volume's source: the token, the
// cluster CA and the namespace, defaultMode 0644 set explicitly.
func TokenVolumeSource() *corev1.ProjectedVolumeSource {
	mode := corev1.ProjectedVolumeSourceDefaultMode
	seconds := int64(TokenExpirationSeconds)
	return &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &seconds}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: rootCAConfigMap},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		},
	}
}
