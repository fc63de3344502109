package apiserver_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

// testResources serves namespaces and configmaps with no strategy rules:
// what is tested here is the REST layer itself.
func testResources() []*registry.Resource {
	v1 := corev1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: v1, Name: "namespaces", Singular: "namespace", Kind: "Namespace", ListKind: "NamespaceList",
			New: func() runtime.Object { return &corev1.Namespace{} }, NewList: func() runtime.Object { return &corev1.NamespaceList{} },
			Strategy: registry.Typed[*corev1.Namespace]{}},
		{GroupVersion: v1, Name: "configmaps", Singular: "configmap", Kind: "ConfigMap", ListKind: "ConfigMapList", Namespaced: true,
			New: func() runtime.Object { return &corev1.ConfigMap{} }, NewList: func() runtime.Object { return &corev1.ConfigMapList{} },
			Strategy: registry.Typed[*corev1.ConfigMap]{}},
	}
}

func startServer(t *testing.T) kubernetes.Interface {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store := memory.New(memory.Config{})
	srv, err := apiserver.New(apiserver.Config{Storage: store, Resources: testResources(), Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); cancel(); store.Close() })
	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL})
	_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestCRUD(t *testing.T) {
	client := startServer(t)
	ctx := context.Background()
	cms := client.CoreV1().ConfigMaps("default")
	cm, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Labels: map[string]string{"app": "x"}}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.UID == "" || cm.ResourceVersion == "" || cm.CreationTimestamp.IsZero() {
		t.Fatalf("server fields not set: %+v", cm.ObjectMeta)
	}
	if _, err := cms.Create(ctx, cm, metav1.CreateOptions{}); !apierrors.IsAlreadyExists(err) {
		t.Fatalf("second create: %v", err)
	}
	stale := cm.DeepCopy()
	cm.Data["k"] = "w"
	if cm, err = cms.Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	stale.Data["k"] = "z"
	if _, err := cms.Update(ctx, stale, metav1.UpdateOptions{}); !apierrors.IsConflict(err) {
		t.Fatalf("stale update: %v", err)
	}
	p, err := cms.Patch(ctx, "a", types.StrategicMergePatchType, []byte(`{"data":{"x":"y"}}`), metav1.PatchOptions{})
	if err != nil || p.Data["x"] != "y" || p.Data["k"] != "w" {
		t.Fatalf("patch: %v %v", err, p)
	}
	got, err := cms.Get(ctx, "a", metav1.GetOptions{})
	if err != nil || got.ResourceVersion != p.ResourceVersion {
		t.Fatalf("get: %v %v", err, got)
	}
	if err := cms.Delete(ctx, "a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("get after delete: %v", err)
	}
}

func TestCreateInMissingNamespace(t *testing.T) {
	client := startServer(t)
	_, err := client.CoreV1().ConfigMaps("nope").Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{})
	if !apierrors.IsNotFound(err) || err.Error() != `namespaces "nope" not found` {
		t.Fatalf("got %v", err)
	}
}

func TestListPagingAndSelectors(t *testing.T) {
	client := startServer(t)
	ctx := context.Background()
	cms := client.CoreV1().ConfigMaps("default")
	for i := 0; i < 25; i++ {
		app := "odd"
		if i%2 == 0 {
			app = "even"
		}
		name := "cm-" + string(rune('a'+i))
		if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": app}}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	opts := metav1.ListOptions{Limit: 4, LabelSelector: "app=even"}
	for {
		l, err := cms.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range l.Items {
			names = append(names, cm.Name)
		}
		if l.Continue == "" {
			break
		}
		opts.Continue = l.Continue
	}
	if len(names) != 13 {
		t.Fatalf("got %d even configmaps: %v", len(names), names)
	}
	l, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=cm-c"})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("field selector: %v %v", err, l)
	}
	if _, err := cms.List(ctx, metav1.ListOptions{FieldSelector: "spec.foo=x"}); !apierrors.IsBadRequest(err) {
		t.Fatalf("unknown field selector: %v", err)
	}
}

func TestWatch(t *testing.T) {
	client := startServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cms := client.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "before"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	w, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	expect(t, w, watch.Added, "before")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "after"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	expect(t, w, watch.Added, "after")
	if err := cms.Delete(ctx, "before", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	expect(t, w, watch.Deleted, "before")
}

func expect(t *testing.T, w watch.Interface, typ watch.EventType, name string) {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		cm, _ := ev.Object.(*corev1.ConfigMap)
		if ev.Type != typ || cm == nil || cm.Name != name {
			t.Fatalf("got %s %#v, want %s %s", ev.Type, ev.Object, typ, name)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s event for %s", typ, name)
	}
}
