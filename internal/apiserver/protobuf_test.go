package apiserver_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

func TestProtobufList(t *testing.T) {
	client := startServer(t)
	cms := client.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	res := client.CoreV1().RESTClient().Get().Namespace("default").Resource("configmaps").
		SetHeader("Accept", "application/vnd.kubernetes.protobuf,application/json").Do(context.Background())
	var ct string
	res.ContentType(&ct)
	if ct != "application/vnd.kubernetes.protobuf" {
		t.Fatalf("content type %q", ct)
	}
	l := &corev1.ConfigMapList{}
	if err := res.Into(l); err != nil || len(l.Items) != 1 || l.Items[0].Name != "a" {
		t.Fatalf("decoded %v %+v", err, l)
	}
}

// TestProtobufWatchFromCompactedRevision reads the ERROR event of a watch
// from a compacted revision in the protobuf stream client-go asks for. The
// watch goes to a server started after the compaction: a server whose
// watch cache still holds the revision serves it from the cache, as
// kube-apiserver does.
func TestProtobufWatchFromCompactedRevision(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	store := memory.New(memory.Config{})
	first := serveStore(ctx, t, store)
	ns, err := first.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "n2"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rev, _ := store.Revision(ctx)
	if err := store.Compact(ctx, rev); err != nil {
		t.Fatal(err)
	}
	w, err := serveStore(ctx, t, store).CoreV1().Namespaces().Watch(ctx, metav1.ListOptions{ResourceVersion: ns.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	ev := <-w.ResultChan()
	if ev.Type != watch.Error || !apierrors.IsResourceExpired(apierrors.FromObject(ev.Object)) {
		t.Fatalf("got %s %#v", ev.Type, ev.Object)
	}
}

func serveStore(ctx context.Context, t *testing.T, store storage.Store) kubernetes.Interface {
	t.Helper()
	srv, err := apiserver.New(apiserver.Config{Storage: store, Resources: testResources(), Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL})
}
