package app

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// exampleNamespace holds the example workload.
const exampleNamespace = "demo"

// applyExample creates the example workload once: a Deployment of three
// web servers behind a Service, in namespace demo. An existing namespace
// demo is left alone, so deleting the workload is not undone on restart
// unless the namespace goes too.
func applyExample(ctx context.Context, s *APIServer) error {
	client, err := ComponentClient(s, "svcplane-example")
	if err != nil {
		return err
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
