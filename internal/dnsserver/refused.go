package dnsserver

import (
	"context"
	"os"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
)

// saNamespaceFile names the namespace of a pod's ServiceAccount.
const saNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// reasonUnsupported is the reason of the Warning event for a refused
// Corefile line.
const reasonUnsupported = "UnsupportedCorefile"

// reportRefused logs each refused Corefile line and, when the server
// runs in a pod (its hostname is the pod's name), records a Warning event
// on the pod so that `kubectl describe pod` shows it.
func reportRefused(ctx context.Context, client kubernetes.Interface, cfg Config) {
	if len(cfg.Refused) == 0 {
		return
	}
	for _, r := range cfg.Refused {
		cfg.Logger.Error("Corefile line not supported by svcplane dns, ignored", "line", r.Line, "text", r.Text, "reason", r.Reason)
	}
	ns, err := os.ReadFile(saNamespaceFile)
	if err != nil {
		return // not in a pod
	}
	name, _ := os.Hostname()
	recordRefused(ctx, client, cfg, strings.TrimSpace(string(ns)), name)
}

// recordRefused records a Warning event per refused line on pod ns/name.
func recordRefused(ctx context.Context, client kubernetes.Interface, cfg Config, ns, name string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ref, err := podRef(ctx, client, ns, name)
	if err != nil {
		cfg.Logger.Warn("no event for the refused Corefile lines", "err", err)
		return
	}
	for _, r := range cfg.Refused {
		if err := writeEvent(ctx, client, ref, r.String()); err != nil {
			cfg.Logger.Warn("no event for a refused Corefile line", "err", err)
			return
		}
	}
}

// podRef finds the pod the server runs in (list: the coredns role may
// list pods, not get them).
func podRef(ctx context.Context, client kubernetes.Interface, ns, name string) (corev1.ObjectReference, error) {
	pods, err := client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{FieldSelector: fields.OneTermEqualSelector("metadata.name", name).String()})
	if err != nil {
		return corev1.ObjectReference{}, err
	}
	ref := corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: ns, Name: name}
	if len(pods.Items) == 1 {
		ref.UID, ref.ResourceVersion = pods.Items[0].UID, pods.Items[0].ResourceVersion
	}
	return ref, nil
}

func writeEvent(ctx context.Context, client kubernetes.Interface, ref corev1.ObjectReference, msg string) error {
	now := metav1.Now()
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{GenerateName: ref.Name + ".", Namespace: ref.Namespace},
		InvolvedObject: ref, Reason: reasonUnsupported, Message: msg, Type: corev1.EventTypeWarning,
		Source: corev1.EventSource{Component: "coredns"}, FirstTimestamp: now, LastTimestamp: now, Count: 1,
		ReportingController: "coredns", ReportingInstance: ref.Name,
	}
	_, err := client.CoreV1().Events(ref.Namespace).Create(ctx, ev, metav1.CreateOptions{})
	return err
}
