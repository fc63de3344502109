package volume

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/record"
)

func pvOf(name, size, class string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"size": size}},
		Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)},
			AccessModes: modes, StorageClassName: class, PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/" + name}}}}
}

func claimOf(name, size string, class *string, modes ...corev1.PersistentVolumeAccessMode) *corev1.PersistentVolumeClaim {
	return &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-" + "name"},
		Spec: corev1.PersistentVolumeClaimSpec{AccessModes: modes, StorageClassName: class,
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(size)}}}}
}

func TestFindMatch(t *testing.T) {
	rwo, rwx := corev1.ReadWriteOnce, corev1.ReadWriteMany
	fast, none := "fast", ""
	small, big, fastPV, rwxPV := pvOf("small", "1Gi", "", rwo), pvOf("big", "10Gi", "", rwo), pvOf("fast", "5Gi", "fast", rwo), pvOf("shared", "5Gi", "", rwo, rwx)
	taken := pvOf("taken", "2Gi", "", rwo)
	taken.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "other", UID: "x"}
	pinned := pvOf("pinned", "20Gi", "", rwo)
	pinned.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "mine"}
	onNode := pvOf("local", "1Gi", "", rwo)
	onNode.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchExpressions: []corev1.NodeSelectorRequirement{{Key: corev1.LabelHostname, Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}}}}}
	all := []*corev1.PersistentVolume{big, small, fastPV, rwxPV, taken}
	sel := claimOf("c", "1Gi", &none, rwo)
	sel.Spec.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{"size": "10Gi"}}
	n1 := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelHostname: "n1"}}}
	for _, tc := range []struct {
		name  string
		claim *corev1.PersistentVolumeClaim
		pvs   []*corev1.PersistentVolume
		node  *corev1.Node
		want  string
	}{
		{"smallest that fits", claimOf("c", "500Mi", nil, rwo), all, nil, "small"},
		{"capacity", claimOf("c", "3Gi", nil, rwo), all, nil, "shared"},
		{"access modes", claimOf("c", "1Gi", nil, rwx), all, nil, "shared"},
		{"class", claimOf("c", "1Gi", &fast, rwo), all, nil, "fast"},
		{"selector", sel, all, nil, "big"},
		{"too big", claimOf("c", "50Gi", nil, rwo), all, nil, ""},
		{"pre-bound wins", claimOf("mine", "1Gi", nil, rwo), append(all, pinned), nil, "pinned"},
		{"node affinity", claimOf("c", "1Gi", nil, rwo), []*corev1.PersistentVolume{onNode}, n1, ""},
		{"no node yet", claimOf("c", "1Gi", nil, rwo), []*corev1.PersistentVolume{onNode}, nil, "local"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if pv := FindMatch(tc.claim, tc.pvs, tc.node); pv != nil {
				got = pv.Name
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// newTest builds a controller over a fake clientset holding objs, with
// the informers' caches filled by hand.
func newTest(t *testing.T, objs ...runtime.Object) (*Controller, *fake.Clientset, informers.SharedInformerFactory) {
	t.Helper()
	client := fake.NewClientset(objs...)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Volumes: f.Core().V1().PersistentVolumes(), Claims: f.Core().V1().PersistentVolumeClaims(),
		Classes: f.Storage().V1().StorageClasses(), Pods: f.Core().V1().Pods(), Nodes: f.Core().V1().Nodes(),
		Recorder: record.NewFakeRecorder(100), LocalPath: LocalPathConfig{Dir: "/data/storage"}})
	if err != nil {
		t.Fatal(err)
	}
	return c, client, f
}

// refill copies the clientset's objects into the informers' caches.
func refill(t *testing.T, client *fake.Clientset, f informers.SharedInformerFactory) {
	t.Helper()
	ctx := context.Background()
	pvs, _ := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	claims, _ := client.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	classes, _ := client.StorageV1().StorageClasses().List(ctx, metav1.ListOptions{})
	nodes, _ := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	var objs []any
	for i := range pvs.Items {
		objs = append(objs, &pvs.Items[i])
	}
	for i := range claims.Items {
		objs = append(objs, &claims.Items[i])
	}
	for i := range classes.Items {
		objs = append(objs, &classes.Items[i])
	}
	for i := range nodes.Items {
		objs = append(objs, &nodes.Items[i])
	}
	for _, inf := range []interface{ Replace([]any, string) error }{
		f.Core().V1().PersistentVolumes().Informer().GetStore(), f.Core().V1().PersistentVolumeClaims().Informer().GetStore(),
		f.Storage().V1().StorageClasses().Informer().GetStore(), f.Core().V1().Nodes().Informer().GetStore()} {
		_ = inf.Replace(nil, "")
	}
	for _, o := range objs {
		switch o.(type) {
		case *corev1.PersistentVolume:
			_ = f.Core().V1().PersistentVolumes().Informer().GetStore().Add(o)
		case *corev1.PersistentVolumeClaim:
			_ = f.Core().V1().PersistentVolumeClaims().Informer().GetStore().Add(o)
		case *storagev1.StorageClass:
			_ = f.Storage().V1().StorageClasses().Informer().GetStore().Add(o)
		case *corev1.Node:
			_ = f.Core().V1().Nodes().Informer().GetStore().Add(o)
		}
	}
}

// settle syncs every claim and volume a few rounds.
func settle(t *testing.T, c *Controller, client *fake.Clientset, f informers.SharedInformerFactory) {
	t.Helper()
	for range 4 {
		refill(t, client, f)
		claims, _ := c.claims.List(everything())
		for _, cl := range claims {
			if err := c.syncClaim(context.Background(), cl.Namespace, cl.Name); err != nil {
				t.Fatal(err)
			}
		}
		refill(t, client, f)
		pvs, _ := c.volumes.List(everything())
		for _, pv := range pvs {
			if err := c.syncVolume(context.Background(), pv.Name); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestBindAndRelease(t *testing.T) {
	rwo := corev1.ReadWriteOnce
	pv := pvOf("pv1", "1Gi", "", rwo)
	claim := claimOf("data", "1Gi", nil, rwo)
	c, client, f := newTest(t, pv, claim)
	settle(t, c, client, f)
	ctx := context.Background()
	gotPV, _ := client.CoreV1().PersistentVolumes().Get(ctx, "pv1", metav1.GetOptions{})
	gotClaim, _ := client.CoreV1().PersistentVolumeClaims("ns").Get(ctx, "data", metav1.GetOptions{})
	if gotPV.Status.Phase != corev1.VolumeBound || gotPV.Spec.ClaimRef == nil || gotPV.Spec.ClaimRef.Name != "data" ||
		gotClaim.Spec.VolumeName != "pv1" || gotClaim.Status.Phase != corev1.ClaimBound || gotClaim.Annotations[AnnBindCompleted] != "yes" {
		t.Fatalf("pv %+v %+v\nclaim %+v %+v", gotPV.Spec.ClaimRef, gotPV.Status, gotClaim.Spec, gotClaim.Status)
	}
	if err := client.CoreV1().PersistentVolumeClaims("ns").Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, c, client, f)
	gotPV, _ = client.CoreV1().PersistentVolumes().Get(ctx, "pv1", metav1.GetOptions{})
	if gotPV.Status.Phase != corev1.VolumeReleased {
		t.Fatalf("retained volume phase %s", gotPV.Status.Phase)
	}
}

func TestLocalPath(t *testing.T) {
	rwo := corev1.ReadWriteOnce
	wffc := storagev1.VolumeBindingWaitForFirstConsumer
	class := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "local-path"}, Provisioner: LocalPathProvisioner, VolumeBindingMode: &wffc}
	name := "local-path"
	claim := claimOf("www-web-0", "1Gi", &name, rwo)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1", Labels: map[string]string{corev1.LabelHostname: "n1"}}}
	c, client, f := newTest(t, class, claim, node)
	settle(t, c, client, f)
	ctx := context.Background()
	if pvs, _ := client.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{}); len(pvs.Items) != 0 {
		t.Fatalf("provisioned before a node was selected: %v", pvs.Items)
	}
	got, _ := client.CoreV1().PersistentVolumeClaims("ns").Get(ctx, claim.Name, metav1.GetOptions{})
	got.Annotations = map[string]string{AnnSelectedNode: "n1"}
	if _, err := client.CoreV1().PersistentVolumeClaims("ns").Update(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, c, client, f)
	pv, err := client.CoreV1().PersistentVolumes().Get(ctx, "pvc-"+string(claim.UID), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Spec.HostPath.Path != "/data/storage/pvc-uid-name_ns_www-web-0" || volumeNode(pv) != "n1" || pv.Status.Phase != corev1.VolumeBound ||
		pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
		t.Fatalf("pv %+v %+v", pv.Spec, pv.Status)
	}
	if err := client.CoreV1().PersistentVolumeClaims("ns").Delete(ctx, claim.Name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	settle(t, c, client, f)
	helper, err := client.CoreV1().Pods("kube-system").Get(ctx, helperPodPrefix+pv.Name, metav1.GetOptions{})
	if err != nil || helper.Spec.NodeName != "n1" || helper.Spec.Volumes[0].HostPath.Path != "/data/storage" {
		t.Fatalf("helper pod %+v, %v", helper, err)
	}
	helper.Status.Phase = corev1.PodSucceeded
	_ = f.Core().V1().Pods().Informer().GetStore().Add(helper)
	if err := c.syncVolume(ctx, pv.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{}); err == nil {
		t.Fatal("volume kept after its directory was removed")
	}
}

func TestClaimInUse(t *testing.T) {
	use := corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}
	running := &corev1.Pod{Spec: corev1.PodSpec{Volumes: []corev1.Volume{use}}}
	done := running.DeepCopy()
	done.Status.Phase = corev1.PodSucceeded
	if !ClaimInUse("data", []*corev1.Pod{running}) || ClaimInUse("data", []*corev1.Pod{done}) || ClaimInUse("other", []*corev1.Pod{running}) {
		t.Fatal("ClaimInUse")
	}
}

// TestSyncLeavesCacheAlone: syncs write through the API only; the
// informers' objects, shared with every other controller, stay as they
// were (a phase written into the cache raced the garbage collector).
func TestSyncLeavesCacheAlone(t *testing.T) {
	rwo := corev1.ReadWriteOnce
	pv := pvOf("pv1", "1Gi", "", rwo)
	pv.Spec.ClaimRef = &corev1.ObjectReference{Namespace: "ns", Name: "gone", UID: "old"}
	pv.Status.Phase = corev1.VolumeBound
	c, client, f := newTest(t, pv)
	refill(t, client, f)
	cached, err := c.volumes.Get("pv1")
	if err != nil {
		t.Fatal(err)
	}
	before := cached.DeepCopy()
	if err := c.syncVolume(context.Background(), "pv1"); err != nil {
		t.Fatal(err)
	}
	if !equality.Semantic.DeepEqual(before, cached) {
		t.Fatalf("the cached volume changed: status %+v, was %+v", cached.Status, before.Status)
	}
	got, _ := client.CoreV1().PersistentVolumes().Get(context.Background(), "pv1", metav1.GetOptions{})
	if got.Status.Phase != corev1.VolumeReleased {
		t.Fatalf("phase written %q, want Released", got.Status.Phase)
	}
}
