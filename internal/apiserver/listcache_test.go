package apiserver_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync/atomic"
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

func createConfigMap(t *testing.T, client kubernetes.Interface, name string, labels map[string]string) *corev1.ConfigMap {
	t.Helper()
	cm, err := client.CoreV1().ConfigMaps("default").Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

func listNames(t *testing.T, client kubernetes.Interface, opts metav1.ListOptions) ([]string, *corev1.ConfigMapList) {
	t.Helper()
	l, err := client.CoreV1().ConfigMaps("default").List(context.Background(), opts)
	if err != nil {
		t.Fatalf("list %+v: %v", opts, err)
	}
	var names []string
	for _, cm := range l.Items {
		names = append(names, cm.Name)
	}
	return names, l
}

// TestListRightAfterWrite: a list without resourceVersion is consistent:
// it includes every write acknowledged before it, though the watch cache
// answers it.
func TestListRightAfterWrite(t *testing.T) {
	client := startServer(t)
	for i := range 20 {
		name := fmt.Sprintf("cm-%02d", i)
		createConfigMap(t, client, name, nil)
		if names, _ := listNames(t, client, metav1.ListOptions{}); !slices.Contains(names, name) {
			t.Fatalf("list right after creating %s: %v", name, names)
		}
	}
}

// TestListPagesAtFirstRevision: pages of a list continued after writes
// show the objects as of the first page, whose revision they all carry.
func TestListPagesAtFirstRevision(t *testing.T) {
	client := startServer(t)
	for i := range 7 {
		createConfigMap(t, client, fmt.Sprintf("cm-%d", i), nil)
	}
	for _, rv := range []string{"", "0"} {
		t.Run("resourceVersion="+rv, func(t *testing.T) {
			names, first := listNames(t, client, metav1.ListOptions{ResourceVersion: rv, Limit: 3})
			if first.Continue == "" || len(names) != 3 {
				t.Fatalf("first page %v, continue %q", names, first.Continue)
			}
			extra := createConfigMap(t, client, "cm-extra"+rv, nil)
			defer client.CoreV1().ConfigMaps("default").Delete(context.Background(), extra.Name, metav1.DeleteOptions{})
			for cont := first.Continue; cont != ""; {
				more, page := listNames(t, client, metav1.ListOptions{Limit: 3, Continue: cont})
				if page.ResourceVersion != first.ResourceVersion {
					t.Errorf("page at %s, first at %s", page.ResourceVersion, first.ResourceVersion)
				}
				names, cont = append(names, more...), page.Continue
			}
			if len(names) != 7 || slices.Contains(names, extra.Name) {
				t.Errorf("pages: %v", names)
			}
		})
	}
}

func TestListSelectorsAndResourceVersions(t *testing.T) {
	client := startServer(t)
	a := createConfigMap(t, client, "a", map[string]string{"team": "x"})
	createConfigMap(t, client, "b", map[string]string{"team": "y"})
	createConfigMap(t, client, "c", map[string]string{"team": "x"})
	if err := client.CoreV1().ConfigMaps("default").Delete(context.Background(), "c", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts metav1.ListOptions
		want []string
	}{
		{"label selector", metav1.ListOptions{LabelSelector: "team=x"}, []string{"a"}},
		{"field selector from the cache", metav1.ListOptions{FieldSelector: "metadata.name=b", ResourceVersion: "0"}, []string{"b"}},
		{"not older than", metav1.ListOptions{ResourceVersion: a.ResourceVersion,
			ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan}, []string{"a", "b"}},
		{"exact, from storage", metav1.ListOptions{ResourceVersion: a.ResourceVersion,
			ResourceVersionMatch: metav1.ResourceVersionMatchExact}, []string{"a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, _ := listNames(t, client, tc.opts); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	_, err := client.CoreV1().ConfigMaps("default").List(context.Background(),
		metav1.ListOptions{ResourceVersionMatch: metav1.ResourceVersionMatchExact})
	if !apierrors.IsInvalid(err) {
		t.Errorf("resourceVersionMatch without resourceVersion: %v", err)
	}
}

// stallingStore stalls every read once stalled is set, as an overloaded
// etcd does ("request timed out"); watches and writes go on.
type stallingStore struct {
	storage.Store
	stalled atomic.Bool
}

func (s *stallingStore) stall(ctx context.Context) error {
	if !s.stalled.Load() {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (s *stallingStore) Get(ctx context.Context, key string) (storage.KV, error) {
	if err := s.stall(ctx); err != nil {
		return storage.KV{}, err
	}
	return s.Store.Get(ctx, key)
}

func (s *stallingStore) List(ctx context.Context, prefix string, opts storage.ListOptions) (storage.ListResult, error) {
	if err := s.stall(ctx); err != nil {
		return storage.ListResult{}, err
	}
	return s.Store.List(ctx, prefix, opts)
}

func (s *stallingStore) Revision(ctx context.Context) (int64, error) {
	if err := s.stall(ctx); err != nil {
		return 0, err
	}
	return s.Store.Revision(ctx)
}

func (s *stallingStore) RequestProgress(ctx context.Context) error {
	return s.Store.(*memory.Store).RequestProgress(ctx)
}

// TestReadsWhileStorageStalls: informers' reads (list and get at
// resourceVersion 0, watch from a list's revision) keep answering from
// the watch cache while storage reads stall.
func TestReadsWhileStorageStalls(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	store := &stallingStore{Store: memory.New(memory.Config{})}
	srv, err := apiserver.New(apiserver.Config{Storage: store, Resources: testResources(), Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL, Timeout: 5 * time.Second})
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	createConfigMap(t, client, "a", nil)
	// Wait for the cache to hold a, then stall storage reads.
	if names, _ := listNames(t, client, metav1.ListOptions{}); !slices.Equal(names, []string{"a"}) {
		t.Fatalf("before the stall: %v", names)
	}
	store.stalled.Store(true)
	names, l := listNames(t, client, metav1.ListOptions{ResourceVersion: "0"})
	if !slices.Equal(names, []string{"a"}) {
		t.Fatalf("list at 0 while stalled: %v", names)
	}
	if _, err := client.CoreV1().ConfigMaps("default").Get(ctx, "a", metav1.GetOptions{ResourceVersion: "0"}); err != nil {
		t.Fatalf("get at 0 while stalled: %v", err)
	}
	w, err := client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: l.ResourceVersion})
	if err != nil {
		t.Fatalf("watch while stalled: %v", err)
	}
	defer w.Stop()
	data := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"b","namespace":"default"}}`)
	if _, err := store.Store.Create(ctx, "/registry/configmaps/default/b", data); err != nil {
		t.Fatal(err)
	}
	ev := <-w.ResultChan()
	if cm, ok := ev.Object.(*corev1.ConfigMap); ev.Type != watch.Added || !ok || cm.Name != "b" {
		t.Fatalf("watch event while stalled: %s %v", ev.Type, ev.Object)
	}
}
