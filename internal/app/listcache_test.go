package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/app"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// TestConsistentListOfQuietResourceAnswersAtOnce: over the API server as
// `up` wires it (embedded etcd behind the disk guard), a consistent list
// of a resource that did not change is answered from the watch cache at
// once, while another client's watch starts after etcd's revision (etcd
// then answers no progress request on that watch's stream).
func TestConsistentListOfQuietResourceAnswersAtOnce(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := app.StartAPIServer(ctx, app.APIServerConfig{DataDir: t.TempDir(), Port: 0, BindAddress: "127.0.0.1",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); <-srv.Done }()
	rc, err := kubeconfig.RESTConfig(srv.AdminKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "cm-"}}
		created, err := client.CoreV1().ConfigMaps("default").Create(ctx, cm, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		w, err := client.CoreV1().ConfigMaps("default").Watch(ctx, metav1.ListOptions{ResourceVersion: created.ResourceVersion})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := client.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("round %d: two consistent lists of quiet resources took %v", i, d)
		}
		w.Stop()
	}
}
