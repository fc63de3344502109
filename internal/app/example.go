package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// exampleNamespace holds the example workload.
const exampleNamespace = "demo"

// applyExample creates the example workload once: a Deployment of three
// web servers behind a Service, in namespace demo. An existing namespace
// demo is left alone, so deleting the workload is not undone on restart
// unless the namespace goes too. With several nodes it first waits (a
// minute at most) for all of them to be Ready, so the pods spread.
func applyExample(ctx context.Context, s *APIServer, nodes int, log *slog.Logger) error {
	client, err := ComponentClient(s, "svcplane-example")
	if err != nil {
		return err
	}
	if _, err := client.CoreV1().Namespaces().Get(ctx, exampleNamespace, metav1.GetOptions{}); err == nil {
		return nil
	}
	if nodes > 1 {
		if err := waitNodesReady(ctx, client, nodes, time.Minute); err != nil {
			log.Warn("example workload applied before every node is Ready", "err", err)
		}
	}
	_, err = client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: exampleNamespace}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create namespace %s: %w", exampleNamespace, err)
	}
	labels := map[string]string{"app": "web"}
	if _, err := client.AppsV1().Deployments(exampleNamespace).Create(ctx, exampleDeployment(labels), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create example deployment: %w", err)
	}
	if _, err := client.CoreV1().Services(exampleNamespace).Create(ctx, exampleService(labels), metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("create example service: %w", err)
	}
	return nil
}

// waitNodesReady waits until n Nodes are Ready, or timeout passes.
func waitNodesReady(ctx context.Context, client kubernetes.Interface, n int, timeout time.Duration) error {
	ready := 0
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		ready = 0
		for i := range list.Items {
			for _, c := range list.Items[i].Status.Conditions {
				if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready >= n, nil
	})
	if err != nil {
		return fmt.Errorf("%d of %d nodes Ready: %w", ready, n, err)
	}
	return nil
}

func exampleDeployment(labels map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "nginx", Image: "nginx",
					Ports: []corev1.ContainerPort{{ContainerPort: 80}},
				}}},
			},
		},
	}
}

func exampleService(labels map[string]string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: labels},
		Spec: corev1.ServiceSpec{
			Selector: labels,
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(80)}},
		},
	}
}
