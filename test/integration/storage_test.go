package integration

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const storageManifest = `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pv1
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/pv1}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
`

// TestStorageAPI applies a StorageClass, a PersistentVolume and a claim
// with kubectl: the default class is set on the claim, both get their
// protection finalizer, the tables read as upstream's, and validation
// answers with upstream's texts.
func TestStorageAPI(t *testing.T) {
	needKubectl(t)
	c := startCluster(t)
	ctx := context.Background()
	c.kubectl("apply", "-f", writeManifest(t, storageManifest))
	claim, err := c.Client.CoreV1().PersistentVolumeClaims("default").Get(ctx, "data", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if claim.Spec.StorageClassName == nil || *claim.Spec.StorageClassName != "local-path" || claim.Status.Phase != corev1.ClaimPending ||
		!slices.Contains(claim.Finalizers, "kubernetes.io/pvc-protection") {
		t.Errorf("claim %+v %v", claim.Spec, claim.Finalizers)
	}
	for _, tc := range []struct{ args, want string }{
		{"get sc", "NAME                   PROVISIONER             RECLAIMPOLICY   VOLUMEBINDINGMODE      ALLOWVOLUMEEXPANSION   AGE\nlocal-path (default)   rancher.io/local-path   Delete          WaitForFirstConsumer   false"},
		{"get pv", "NAME   CAPACITY   ACCESS MODES   RECLAIM POLICY   STATUS    CLAIM   STORAGECLASS   VOLUMEATTRIBUTESCLASS   REASON   AGE\npv1    1Gi        RWO            Retain           Pending                          <unset>"},
		{"get pvc", "NAME   STATUS    VOLUME   CAPACITY   ACCESS MODES   STORAGECLASS   VOLUMEATTRIBUTESCLASS   AGE\ndata   Pending                                      local-path     <unset>"},
	} {
		if out := c.kubectl(strings.Fields(tc.args)...); !strings.HasPrefix(out, tc.want) {
			t.Errorf("kubectl %s:\n%s\nwant prefix\n%s", tc.args, out, tc.want)
		}
	}
	_, errOut, err := c.KubectlResult(`{"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"bad"},"spec":{"accessModes":["X"]}}`, "create", "-f", "-")
	want := `The PersistentVolumeClaim "bad" is invalid: ` + "\n" + `* spec.accessModes: Unsupported value: "X": supported values: "ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"` +
		"\n* spec.resources[storage]: Required value"
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("create bad claim: %v\n%s\nwant %s", err, errOut, want)
	}
	pv, err := c.Client.CoreV1().PersistentVolumes().Get(ctx, "pv1", metav1.GetOptions{})
	if err != nil || !slices.Contains(pv.Finalizers, "kubernetes.io/pv-protection") {
		t.Fatalf("pv %v %v", pv, err)
	}
	pv.Spec.HostPath.Path = "/tmp/other"
	if _, err := c.Client.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{}); !apierrors.IsInvalid(err) ||
		!strings.Contains(err.Error(), "spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation") {
		t.Errorf("update source: %v", err)
	}
}
