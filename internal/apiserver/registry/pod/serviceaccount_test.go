package pod

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func accounts(sas ...*corev1.ServiceAccount) AccountGetter {
	return func(_ context.Context, ns, name string) (*corev1.ServiceAccount, error) {
		for _, sa := range sas {
			if sa.Namespace == ns && sa.Name == name {
				return sa, nil
			}
		}
		return nil, apierrors.NewNotFound(corev1.Resource("serviceaccounts"), name)
	}
}

func admissionPod() *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{
		InitContainers: []corev1.Container{{Name: "init"}},
		Containers: []corev1.Container{{Name: "a"}, {Name: "b", VolumeMounts: []corev1.VolumeMount{
			{Name: "mine", MountPath: TokenMountPath}}}},
	}}
}

func TestAdmissionAddsTokenVolume(t *testing.T) {
	a := Admission{Get: accounts(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: "ns"},
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}), Suffix: func() string { return "x7b2q" }}
	pod := admissionPod()
	if _, err := a.BeforeCreate(context.Background(), pod, false); err != nil {
		t.Fatal(err)
	}
	if pod.Spec.ServiceAccountName != "default" || pod.Spec.DeprecatedServiceAccount != "default" {
		t.Errorf("serviceAccountName %q / %q", pod.Spec.ServiceAccountName, pod.Spec.DeprecatedServiceAccount)
	}
	mount := corev1.VolumeMount{Name: "kube-api-access-x7b2q", ReadOnly: true, MountPath: "/var/run/secrets/kubernetes.io/serviceaccount"}
	if diff := cmp.Diff([]corev1.VolumeMount{mount}, pod.Spec.InitContainers[0].VolumeMounts); diff != "" {
		t.Errorf("init container mounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]corev1.VolumeMount{mount}, pod.Spec.Containers[0].VolumeMounts); diff != "" {
		t.Errorf("container mounts (-want +got):\n%s", diff)
	}
	if len(pod.Spec.Containers[1].VolumeMounts) != 1 {
		t.Errorf("a container with its own mount at the path got another: %v", pod.Spec.Containers[1].VolumeMounts)
	}
	mode, secs := int32(0o644), int64(3607)
	want := []corev1.Volume{{Name: "kube-api-access-x7b2q", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{
		DefaultMode: &mode,
		Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: &secs}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
				Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
				{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
		}}}}}
	if diff := cmp.Diff(want, pod.Spec.Volumes); diff != "" {
		t.Errorf("volumes (-want +got):\n%s", diff)
	}
	if len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "regcred" {
		t.Errorf("imagePullSecrets %v", pod.Spec.ImagePullSecrets)
	}
	valid := pod.DeepCopy()
	valid.Spec.Volumes = append(valid.Spec.Volumes, corev1.Volume{Name: "mine"})
	for _, list := range [][]corev1.Container{valid.Spec.InitContainers, valid.Spec.Containers} {
		for i := range list {
			list[i].Image = "busybox"
		}
	}
	Default(valid)
	if errs := Validate(context.Background(), valid); len(errs) > 0 {
		t.Errorf("the admitted pod does not validate: %v", errs)
	}
	// Admitting again reuses the volume.
	again := pod.DeepCopy()
	again.Spec.Containers = append(again.Spec.Containers, corev1.Container{Name: "c"})
	if _, err := a.BeforeCreate(context.Background(), again, false); err != nil {
		t.Fatal(err)
	}
	if len(again.Spec.Volumes) != 1 || again.Spec.Containers[2].VolumeMounts[0].Name != "kube-api-access-x7b2q" {
		t.Errorf("volume not reused: %v %v", again.Spec.Volumes, again.Spec.Containers[2].VolumeMounts)
	}
}

func TestAdmissionOptOut(t *testing.T) {
	no, yes := false, true
	for _, tc := range []struct {
		name      string
		pod, sa   *bool
		wantMount bool
	}{
		{"default", nil, nil, true},
		{"pod opts out", &no, nil, false},
		{"account opts out", nil, &no, false},
		{"pod wins over account", &yes, &no, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := Admission{Get: accounts(&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "robot", Namespace: "ns"},
				AutomountServiceAccountToken: tc.sa})}
			pod := admissionPod()
			pod.Spec.ServiceAccountName, pod.Spec.AutomountServiceAccountToken = "robot", tc.pod
			if _, err := a.BeforeCreate(context.Background(), pod, false); err != nil {
				t.Fatal(err)
			}
			if got := len(pod.Spec.Volumes) == 1; got != tc.wantMount {
				t.Errorf("volume added: %v, want %v", got, tc.wantMount)
			}
		})
	}
}

func TestAdmissionMissingAccount(t *testing.T) {
	a := Admission{Get: accounts(), Tries: 3, Wait: time.Millisecond}
	pod := admissionPod()
	pod.Spec.ServiceAccountName = "ghost"
	_, err := a.BeforeCreate(context.Background(), pod, false)
	want := `pods "p" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found`
	if err == nil || err.Error() != want || !apierrors.IsForbidden(err) {
		t.Fatalf("error %v, want %q", err, want)
	}
	// The default account is waited for.
	calls := 0
	a.Get = func(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
		calls++
		if calls < 3 {
			return nil, apierrors.NewNotFound(corev1.Resource("serviceaccounts"), name)
		}
		return &corev1.ServiceAccount{}, nil
	}
	if _, err := a.BeforeCreate(context.Background(), admissionPod(), false); err != nil || calls != 3 {
		t.Fatalf("default account not waited for: %v after %d lookups", err, calls)
	}
	// Mirror pods are left alone.
	mirror := admissionPod()
	mirror.Annotations = map[string]string{corev1.MirrorPodAnnotationKey: "x"}
	a.Get = accounts()
	if _, err := a.BeforeCreate(context.Background(), mirror, false); err != nil || len(mirror.Spec.Volumes) != 0 {
		t.Fatalf("mirror pod: %v %v", err, mirror.Spec.Volumes)
	}
}
