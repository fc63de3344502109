package app

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/controller/volume"
)

// storageControllers builds the PersistentVolume controller, with the
// local-path provisioner.
func storageControllers(d controllerDeps) ([]namedRun, error) {
	core := d.Informers.Core().V1()
	c, err := volume.New(volume.Config{
		Client: d.Client, Volumes: core.PersistentVolumes(), Claims: core.PersistentVolumeClaims(),
		Classes: d.Informers.Storage().V1().StorageClasses(), Pods: core.Pods(), Nodes: core.Nodes(),
		Recorder: d.Recorder(volume.Name), ProvisionerRecorder: d.Recorder(volume.LocalPathProvisioner),
		LocalPath: volume.LocalPathConfig{Dir: d.Settings.LocalPathDir}, Logger: d.Logger,
	})
	if err != nil {
		return nil, err
	}
	return []namedRun{{name: volume.Name, run: runWith(c.Run, d.Settings.Workers)}}, nil
}

// localPathClass is the default StorageClass `up` makes, as k3s's.
func localPathClass() *storagev1.StorageClass {
	wffc, del := storagev1.VolumeBindingWaitForFirstConsumer, corev1.PersistentVolumeReclaimDelete
	return &storagev1.StorageClass{
		ObjectMeta: metav1.ObjectMeta{Name: "local-path",
			Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}},
		Provisioner: volume.LocalPathProvisioner, VolumeBindingMode: &wffc, ReclaimPolicy: &del,
	}
}

// ensureLocalPathClass creates the local-path class once; a class the
// user changed or removed the default mark from is left alone.
func ensureLocalPathClass(ctx context.Context, s *APIServer) error {
	client, err := ComponentClient(s, "system:apiserver")
	if err != nil {
		return err
	}
	_, err = client.StorageV1().StorageClasses().Create(ctx, localPathClass(), metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create the local-path StorageClass: %w", err)
	}
	return nil
}
