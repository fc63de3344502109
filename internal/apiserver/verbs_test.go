package apiserver_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

// startWithDeployments also serves deployments, for the scale subresource.
func startWithDeployments(t *testing.T) kubernetes.Interface {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	store := memory.New(memory.Config{})
	res := append(testResources(), &registry.Resource{GroupVersion: appsv1.SchemeGroupVersion, Name: "deployments", Singular: "deployment",
		Kind: "Deployment", ListKind: "DeploymentList", Namespaced: true, Subresources: []string{"status", "scale"},
		New: func() runtime.Object { return &appsv1.Deployment{} }, NewList: func() runtime.Object { return &appsv1.DeploymentList{} },
		Strategy: registry.Typed[*appsv1.Deployment]{}})
	srv, err := apiserver.New(apiserver.Config{Storage: store, Resources: res, Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Run(ctx)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); cancel() })
	client := kubernetes.NewForConfigOrDie(&rest.Config{Host: hs.URL})
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	return client
}

func TestScaleSubresource(t *testing.T) {
	client := startWithDeployments(t)
	ctx := context.Background()
	labels := map[string]string{"app": "x"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}, Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](1),
		Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}}}}
	if _, err := client.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	scale, err := client.AppsV1().Deployments("default").GetScale(ctx, "d", metav1.GetOptions{})
	if err != nil || scale.Spec.Replicas != 1 || scale.Status.Selector != "app=x" {
		t.Fatalf("get scale: %v %+v", err, scale)
	}
	scale.Spec.Replicas = 5
	if _, err := client.AppsV1().Deployments("default").UpdateScale(ctx, "d", scale, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, _ := client.AppsV1().Deployments("default").Get(ctx, "d", metav1.GetOptions{})
	if *got.Spec.Replicas != 5 {
		t.Fatalf("replicas %d", *got.Spec.Replicas)
	}
}

func TestDeleteCollectionDryRunAndGenerateName(t *testing.T) {
	client := startServer(t)
	ctx := context.Background()
	cms := client.CoreV1().ConfigMaps("default")
	for _, app := range []string{"a", "a", "b"} {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{GenerateName: "gen-", Labels: map[string]string{"app": app}}}
		out, err := cms.Create(ctx, cm, metav1.CreateOptions{})
		if err != nil || !strings.HasPrefix(out.Name, "gen-") || len(out.Name) != len("gen-")+5 {
			t.Fatalf("generateName: %v %q", err, out.Name)
		}
	}
	dry := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "dry"}}
	if _, err := cms.Create(ctx, dry, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Get(ctx, "dry", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("dry run stored the object: %v", err)
	}
	if err := cms.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: "app=a"}); err != nil {
		t.Fatal(err)
	}
	l, _ := cms.List(ctx, metav1.ListOptions{})
	if len(l.Items) != 1 || l.Items[0].Labels["app"] != "b" {
		t.Fatalf("after deletecollection: %+v", l.Items)
	}
}
