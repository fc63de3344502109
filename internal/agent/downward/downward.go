// Package downward computes the downward API's values of a pod: the
// fields and resources that env vars and downwardAPI volume files show,
// formatted as the kubelet formats them.
package downward

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// FieldValue is the value of a pod field (metadata.name,
// metadata.labels['k'], status.podIP, ...). Whole label and annotation
// maps are formatted as FormatMap does.
func FieldValue(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return FormatMap(pod.Labels), nil
	case "metadata.annotations":
		return FormatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIPs":
		var ips []string
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	}
	for prefix, m := range map[string]map[string]string{"metadata.labels": pod.Labels, "metadata.annotations": pod.Annotations} {
		if key, ok := strings.CutPrefix(path, prefix+"['"); ok {
			return m[strings.TrimSuffix(key, "']")], nil
		}
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

// FormatMap writes a map as the kubelet does for labels and annotations:
// key="value" lines (values Go-quoted) in key order, with no final
// newline.
func FormatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "%s=%q", k, m[k])
	}
	return b.String()
}

// ResourceValue is a container's limit or request, in the unit the
// reference asks for (cores by default, rounded up, as upstream). A limit
// not set is the node's capacity (nodeCPUs cores; memory as 0).
func ResourceValue(c *corev1.Container, ref *corev1.ResourceFieldSelector, nodeCPUs int) string {
	kind, res, _ := strings.Cut(ref.Resource, ".")
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[corev1.ResourceName(res)]
	if !ok {
		if res == "cpu" && kind != "requests" {
			return strconv.Itoa(nodeCPUs)
		}
		return "0"
	}
	div := ref.Divisor
	if div.IsZero() {
		return strconv.FormatInt(q.Value(), 10)
	}
	return strconv.FormatInt((q.MilliValue()+div.MilliValue()-1)/div.MilliValue(), 10)
}
