package rootca

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
)

func TestDesired(t *testing.T) {
	ca := []byte("PEM")
	ok := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Annotations: map[string]string{DescriptionAnnotation: "x"}},
		Data: map[string]string{DataKey: "PEM"}}
	if Desired(ok, ca) != nil {
		t.Error("a correct ConfigMap rewritten")
	}
	edited := ok.DeepCopy()
	edited.Data["extra"] = "1"
	edited.Annotations = nil
	got := Desired(edited, ca)
	if got == nil || len(got.Data) != 1 || got.Data[DataKey] != "PEM" || got.Annotations[DescriptionAnnotation] != Description {
		t.Errorf("edited ConfigMap corrected to %+v", got)
	}
}

// TestPublishes runs the controller against a fake clientset: the
// ConfigMap appears in each namespace and comes back after a delete.
func TestPublishes(t *testing.T) {
	client := fake.NewSimpleClientset(
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gone"}, Status: corev1.NamespaceStatus{Phase: corev1.NamespaceTerminating}},
	)
	f := informers.NewSharedInformerFactory(client, 0)
	c, err := New(Config{Client: client, Namespaces: f.Core().V1().Namespaces(), ConfigMaps: f.Core().V1().ConfigMaps(), RootCA: []byte("PEM")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.Start(ctx.Done())
	go c.Run(ctx, 1)
	wait := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if cond() {
				return
			}
		}
		t.Fatalf("timed out waiting for %s", what)
	}
	has := func(ns string) bool {
		cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, ConfigMapName, metav1.GetOptions{})
		return err == nil && cm.Data[DataKey] == "PEM"
	}
	wait("the ConfigMap in default", func() bool { return has("default") })
	if has("gone") {
		t.Error("published into a terminating namespace")
	}
	if err := client.CoreV1().ConfigMaps("default").Delete(ctx, ConfigMapName, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	wait("the ConfigMap back after a delete", func() bool { return has("default") })
	cancel()
	f.Shutdown()
}
