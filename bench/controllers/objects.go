package main

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
)

// nodes is how many Nodes pods are spread over (zones z0-z2).
const nodes = 10

func createNamespace(ctx context.Context, c kubernetes.Interface, ns string) error {
	_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	return err
}

func createNodes(ctx context.Context, c kubernetes.Interface) error {
	for i := range nodes {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("n%d", i), Labels: map[string]string{corev1.LabelTopologyZone: fmt.Sprintf("z%d", i%3)},
		}}
		if _, err := c.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// createService creates a Service selecting app=<name>.
func createService(ctx context.Context, c kubernetes.Interface, ns, name string) error {
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": name},
			Ports:    []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
	_, err := c.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{})
	return err
}

// readyPod creates pod number i labelled app=<app> and writes its status
// (Running, an IP, Ready), as kwok would.
func readyPod(ctx context.Context, c kubernetes.Interface, ns, app string, i int) error {
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: podName(app, i), Namespace: ns, Labels: map[string]string{"app": app}},
		Spec: corev1.PodSpec{NodeName: fmt.Sprintf("n%d", i%nodes),
			Containers: []corev1.Container{{Name: "c", Image: "busybox"}}},
	}
	created, err := c.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	ip := podIP(i)
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	setReadyCondition(created, true)
	_, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, created, metav1.UpdateOptions{})
	return err
}

func podName(app string, i int) string { return fmt.Sprintf("%s-%05d", app, i) }

// podIP spreads pods over 10.244.0.0/16.
func podIP(i int) string { return fmt.Sprintf("10.244.%d.%d", i/250, i%250+1) }

// setReady writes a pod's Ready condition.
func setReady(ctx context.Context, c kubernetes.Interface, ns, name string, ready bool) error {
	pod, err := c.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	setReadyCondition(pod, ready)
	_, err = c.CoreV1().Pods(ns).UpdateStatus(ctx, pod, metav1.UpdateOptions{})
	return err
}

func setReadyCondition(pod *corev1.Pod, ready bool) {
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st, LastTransitionTime: metav1.Now()}}
}
