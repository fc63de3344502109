package volumes

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/sys/mountinfo"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

type fakeObjects struct {
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
}

func (f *fakeObjects) ConfigMap(_ context.Context, _, name string) (*corev1.ConfigMap, error) {
	if cm, ok := f.cms[name]; ok {
		return cm, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("configmaps"), name)
}

func (f *fakeObjects) Secret(_ context.Context, _, name string) (*corev1.Secret, error) {
	if s, ok := f.secrets[name]; ok {
		return s, nil
	}
	return nil, apierrors.NewNotFound(corev1.Resource("secrets"), name)
}

type fakeTokens struct {
	calls int
	last  *authenticationv1.TokenRequest
	now   func() time.Time
}

func (f *fakeTokens) CreateToken(_ context.Context, ns, sa string, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	f.calls++
	f.last = req
	out := req.DeepCopy()
	out.Status.Token = "token-" + ns + "-" + sa + "-" + string(rune('0'+f.calls))
	out.Status.ExpirationTimestamp = metav1.NewTime(f.now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second))
	return out, nil
}

func testPod() *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "ns1", UID: "uid-1",
			Labels: map[string]string{"app": "web", "tier": "front"}, Annotations: map[string]string{"note": `say "hi"`}},
		Spec: corev1.PodSpec{ServiceAccountName: "robot", Containers: []corev1.Container{{Name: "c",
			Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}}}}},
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func newTestManager(t *testing.T, objs *fakeObjects, now *time.Time) (*Manager, *fakeTokens) {
	clock := func() time.Time { return *now }
	tok := &fakeTokens{now: clock}
	return New(Config{Root: t.TempDir(), Objects: objs, Tokens: tok, NodeCPUs: 4, Now: clock}), tok
}

// TestSetupFilesAndModes sets up one volume of each kind and checks the
// files, their modes and read-only flags.
func TestSetupFilesAndModes(t *testing.T) {
	objs := &fakeObjects{
		cms: map[string]*corev1.ConfigMap{"cfg": {Data: map[string]string{"a.conf": "A", "b.conf": "B"},
			BinaryData: map[string][]byte{"bin": {0, 1}}}, "kube-root-ca.crt": {Data: map[string]string{"ca.crt": "CA"}}},
		secrets: map[string]*corev1.Secret{"pw": {Data: map[string][]byte{"user": []byte("u"), "pass": []byte("p")}}},
	}
	now := time.Now()
	m, tok := newTestManager(t, objs, &now)
	pod := testPod()
	pod.Spec.Volumes = []corev1.Volume{
		{Name: "cm", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr.To[int32](0o644)}}},
		{Name: "cm-items", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, DefaultMode: ptr.To[int32](0o644),
			Items: []corev1.KeyToPath{{Key: "a.conf", Path: "dir/a", Mode: ptr.To[int32](0o600)}}}}},
		{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "pw", DefaultMode: ptr.To[int32](0o400)}}},
		{Name: "down", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{DefaultMode: ptr.To[int32](0o644),
			Items: []corev1.DownwardAPIVolumeFile{
				{Path: "name", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}},
				{Path: "labels", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels"}},
				{Path: "annotations", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations"}},
				{Path: "mem", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.memory", Divisor: resource.MustParse("1Mi")}},
				{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: "c", Resource: "limits.cpu"}},
			}}}},
		{Name: "kube-api-access-abcde", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{DefaultMode: ptr.To[int32](0o644),
			Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3607)}},
				{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"},
					Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
				{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{
					{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.namespace"}}}}},
			}}}},
		{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
	}
	vols, err := m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"cm/a.conf": "A", "cm/bin": "\x00\x01", "cm-items/dir/a": "A", "sec/pass": "p",
		"down/name": "web", "down/labels": "app=\"web\"\ntier=\"front\"", "down/annotations": `note="say \"hi\""`,
		"down/mem": "64", "down/cpu": "4",
		"kube-api-access-abcde/token": "token-ns1-robot-1", "kube-api-access-abcde/ca.crt": "CA", "kube-api-access-abcde/namespace": "ns1",
	} {
		vol, file, _ := cut(name)
		if got := read(t, filepath.Join(vols[vol].Path, file)); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for name, want := range map[string]os.FileMode{"cm/a.conf": 0o644, "cm-items/dir/a": 0o600, "sec/user": 0o400, "kube-api-access-abcde/token": 0o644} {
		vol, file, _ := cut(name)
		if got := mode(t, filepath.Join(vols[vol].Path, file)); got != want {
			t.Errorf("%s mode %v, want %v", name, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(vols["cm-items"].Path, "b.conf")); !os.IsNotExist(err) {
		t.Error("items did not limit the configMap's keys")
	}
	if !vols["cm"].ReadOnly || vols["scratch"].ReadOnly || mode(t, vols["scratch"].Path) != 0o777 {
		t.Errorf("read-only or emptyDir mode wrong: %+v", vols)
	}
	if r := tok.last.Spec; *r.ExpirationSeconds != 3607 || r.BoundObjectRef.Kind != "Pod" || r.BoundObjectRef.UID != "uid-1" || r.Audiences != nil {
		t.Errorf("token request %+v", r)
	}
	want := filepath.Join(m.PodDir("uid-1"), "volumes", "kubernetes.io~configmap", "cm")
	if vols["cm"].Path != want {
		t.Errorf("configMap volume at %s, want %s", vols["cm"].Path, want)
	}
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// TestSetupFollowsUpdatesAndErrors: a missing ConfigMap fails with
// kubelet's FailedMount message, an optional one is empty, an update is
// written on the next Setup.
func TestSetupFollowsUpdatesAndErrors(t *testing.T) {
	objs := &fakeObjects{cms: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}}
	now := time.Now()
	m, _ := newTestManager(t, objs, &now)
	pod := testPod()
	pod.Spec.Volumes = []corev1.Volume{{Name: "conf", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: "x"}}}}}
	_, err := m.Setup(context.Background(), pod)
	if err == nil || err.Error() != `MountVolume.SetUp failed for volume "conf" : configmap "x" not found` {
		t.Fatalf("error %v", err)
	}
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "y"}}})
	objs.cms["x"] = &corev1.ConfigMap{Data: map[string]string{"k": "v1"}}
	if _, err = m.Setup(context.Background(), pod); err == nil || err.Error() != `MountVolume.SetUp failed for volume "s" : secret "y" not found` {
		t.Fatalf("error %v", err)
	}
	pod.Spec.Volumes[1].Secret.Optional = ptr.To(true)
	vols, err := m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	objs.cms["x"] = &corev1.ConfigMap{Data: map[string]string{"k": "v2"}}
	if _, err := m.Setup(context.Background(), pod); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(vols["conf"].Path, "k")); got != "v2" {
		t.Fatalf("update not followed: %q", got)
	}
	pod.Spec.Volumes[0].ConfigMap.Items = []corev1.KeyToPath{{Key: "nope", Path: "p"}}
	if _, err := m.Setup(context.Background(), pod); err == nil || err.Error() != `MountVolume.SetUp failed for volume "conf" : configmap references non-existent config key: nope` {
		t.Fatalf("error %v", err)
	}
}

// TestTokenRefresh: the token is asked again after 80% of its lifetime
// (less jitter), and capped at 24 hours.
func TestTokenRefresh(t *testing.T) {
	exp := time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC)
	tk := newToken("t", exp, time.Hour, 0)
	if want := exp.Add(-12 * time.Minute); !tk.refresh.Equal(want) {
		t.Fatalf("refresh at %v, want %v", tk.refresh, want)
	}
	long := newToken("t", exp, 48*time.Hour, 5*time.Second)
	if want := exp.Add(-24 * time.Hour).Add(-5 * time.Second); !long.refresh.Equal(want) {
		t.Fatalf("refresh at %v, want %v", long.refresh, want)
	}

	now := time.Now()
	m, tok := newTestManager(t, &fakeObjects{}, &now)
	pod := testPod()
	src := &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3600), Audience: "vault"}
	first, _ := m.tokens.get(context.Background(), pod, src)
	now = now.Add(40 * time.Minute)
	if again, _ := m.tokens.get(context.Background(), pod, src); again != first || tok.calls != 1 {
		t.Fatalf("token asked again at 67%%: %d calls", tok.calls)
	}
	if tok.last.Spec.Audiences[0] != "vault" {
		t.Fatalf("audiences %v", tok.last.Spec.Audiences)
	}
	now = now.Add(10 * time.Minute)
	if again, _ := m.tokens.get(context.Background(), pod, src); again == first || tok.calls != 2 {
		t.Fatalf("token not renewed at 83%%: %d calls", tok.calls)
	}
}

// TestTeardownAndOrphans: a pod's volumes (a tmpfs emptyDir too, as root)
// are unmounted and removed; Orphans removes those of unknown pods.
func TestTeardownAndOrphans(t *testing.T) {
	now := time.Now()
	m, _ := newTestManager(t, &fakeObjects{}, &now)
	pod := testPod()
	pod.Spec.Volumes = []corev1.Volume{{Name: "mem", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{
		Medium: corev1.StorageMediumMemory, SizeLimit: ptr.To(resource.MustParse("1Mi"))}}}}
	if os.Geteuid() != 0 {
		pod.Spec.Volumes[0].EmptyDir.Medium = ""
	}
	vols, err := m.Setup(context.Background(), pod)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		t.Cleanup(func() { _ = unmountUnder(m.cfg.Root) })
		if ok, _ := mountinfo.Mounted(vols["mem"].Path); !ok {
			t.Fatal("Memory emptyDir is not a mount")
		}
		if _, err := m.Setup(context.Background(), pod); err != nil {
			t.Fatal(err)
		}
		if ms, _ := mountinfo.GetMounts(mountinfo.SingleEntryFilter(vols["mem"].Path)); len(ms) != 1 {
			t.Fatalf("%d mounts after a second setup", len(ms))
		}
	}
	other := testPod()
	other.UID = "uid-2"
	other.Spec.Volumes = []corev1.Volume{{Name: "e", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}}
	if _, err := m.Setup(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if err := m.Teardown("uid-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(m.PodDir("uid-1")); !os.IsNotExist(err) {
		t.Fatalf("pod dir left: %v", err)
	}
	if err := m.Orphans(map[types.UID]bool{}); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(m.cfg.Root); len(entries) != 0 {
		t.Fatalf("orphans left: %v", entries)
	}
}

func TestContainerMounts(t *testing.T) {
	vol := t.TempDir()
	if err := os.WriteFile(filepath.Join(vol, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc", filepath.Join(vol, "escape")); err != nil {
		t.Fatal(err)
	}
	vols := map[string]Volume{"v": {Path: vol}, "cm": {Path: vol, ReadOnly: true}}
	c := &corev1.Container{Name: "c", VolumeMounts: []corev1.VolumeMount{
		{Name: "v", MountPath: "/data"},
		{Name: "v", MountPath: "/ro", ReadOnly: true},
		{Name: "cm", MountPath: "/cfg"},
		{Name: "v", MountPath: "/f", SubPath: "f"},
		{Name: "v", MountPath: "/new", SubPathExpr: "$(POD)/logs"},
		{Name: "v", MountPath: "/esc", SubPath: "escape/passwd"},
	}}
	got, err := ContainerMounts(c, vols, func(s string) string {
		if s == "$(POD)/logs" {
			return "web/logs"
		}
		return s
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []Mount{
		{vol, "/data", false}, {vol, "/ro", true}, {vol, "/cfg", true}, {filepath.Join(vol, "f"), "/f", false},
		{filepath.Join(vol, "web/logs"), "/new", false}, {filepath.Join(vol, "etc/passwd"), "/esc", false},
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("mount %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if st, err := os.Stat(filepath.Join(vol, "web/logs")); err != nil || !st.IsDir() {
		t.Error("missing subPath not created")
	}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "v", MountPath: "/x", SubPath: "../up"}}
	if _, err := ContainerMounts(c, vols, func(s string) string { return s }); err == nil {
		t.Error("subPath with .. accepted")
	}
}
