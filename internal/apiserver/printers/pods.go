package printers

import (
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func podPrinter() Printer {
	status, spec := corev1.PodStatus{}.SwaggerDoc(), corev1.PodSpec{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
			column("Status", "string", "The aggregate status of the containers in this pod."),
			column("Restarts", "string", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
			ageColumn(),
			wideColumn("IP", "string", status["podIP"]),
			wideColumn("Node", "string", spec["nodeName"]),
			wideColumn("Nominated Node", "string", status["nominatedNodeName"]),
			wideColumn("Readiness Gates", "string", spec["readinessGates"]),
		},
		Row: typed(podRow),
	}
}

func podRow(pod *corev1.Pod, now time.Time) []interface{} {
	s := summarizePod(pod)
	restarts := strconv.Itoa(s.restarts)
	if s.restarts != 0 && !s.lastRestart.IsZero() {
		restarts = fmt.Sprintf("%d (%s ago)", s.restarts, age(s.lastRestart, now))
	}
	return []interface{}{
		pod.Name,
		fmt.Sprintf("%d/%d", s.ready, s.total),
		s.reason,
		restarts,
		age(pod.CreationTimestamp, now),
		orDefault(podIP(&pod.Status), "<none>"),
		orDefault(pod.Spec.NodeName, "<none>"),
		orDefault(pod.Status.NominatedNodeName, "<none>"),
		readinessGates(pod),
	}
}

// podIP is the pod's primary IP. In the v1 -> internal conversion upstream
// prints from, status.podIP wins over status.podIPs when both are set.
func podIP(status *corev1.PodStatus) string {
	if status.PodIP != "" {
		return status.PodIP
	}
	if len(status.PodIPs) > 0 {
		return status.PodIPs[0].IP
	}
	return ""
}

// readinessGates is "true/all" over the pod's readiness gates, or <none>.
func readinessGates(pod *corev1.Pod) string {
	gates := pod.Spec.ReadinessGates
	if len(gates) == 0 {
		return "<none>"
	}
	met := 0
	for _, g := range gates {
		if c := podCondition(pod.Status.Conditions, g.ConditionType); c != nil && c.Status == corev1.ConditionTrue {
			met++
		}
	}
	return fmt.Sprintf("%d/%d", met, len(gates))
}

// podCondition returns the first condition of the type, nil if none.
func podCondition(conditions []corev1.PodCondition, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range conditions {
		if conditions[i].Type == t {
			return &conditions[i]
		}
	}
	return nil
}
