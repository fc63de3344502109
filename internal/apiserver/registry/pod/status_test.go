package pod

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestValidateStatusUpdate(t *testing.T) {
	terminated := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	tests := []struct {
		name   string
		old    func(*corev1.Pod)
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"running with IPs", nil, func(p *corev1.Pod) {
			p.Status.Phase = corev1.PodRunning
			p.Status.PodIP = "10.244.0.5"
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0.5"}, {IP: "fd00::5"}}
		}, nil},
		{"invalid pod IP", nil, func(p *corev1.Pod) { p.Status.PodIPs = []corev1.PodIP{{IP: "10.244.0"}} },
			[]string{`status.podIPs[0]: Invalid value: "10.244.0": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`}},
		{"two IPv4 pod IPs", nil, func(p *corev1.Pod) {
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "10.0.0.2"}}
		}, []string{`status.podIPs: Invalid value: [{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}]: may specify no more than one IP for each IP family`}},
		{"duplicate pod IP", nil, func(p *corev1.Pod) {
			p.Status.PodIPs = []corev1.PodIP{{IP: "10.0.0.1"}, {IP: "10.0.0.1"}}
		}, []string{
			`status.podIPs: Invalid value: [{"ip":"10.0.0.1"},{"ip":"10.0.0.1"}]: may specify no more than one IP for each IP family`,
			`status.podIPs[1]: Duplicate value: {"ip":"10.0.0.1"}`,
		}},
		{"hostIP mismatch", nil, func(p *corev1.Pod) {
			p.Status.HostIP = "192.168.1.2"
			p.Status.HostIPs = []corev1.HostIP{{IP: "192.168.1.3"}}
		}, []string{"status.hostIPs[0].ip: Invalid value: \"192.168.1.3\": must be equal to `hostIP`"}},
		{"QoS class change", func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSBestEffort },
			func(p *corev1.Pod) { p.Status.QOSClass = corev1.PodQOSGuaranteed },
			[]string{`status.qosClass: Invalid value: "Guaranteed": field is immutable`}},
		{"node change", nil, func(p *corev1.Pod) { p.Spec.NodeName = "node-b" },
			[]string{"status.nodeName: Forbidden: may not be changed directly"}},
		{"terminated container restarts under Never", func(p *corev1.Pod) {
			p.Spec.RestartPolicy = corev1.RestartPolicyNever
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: terminated}}
		}, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: running}}
		}, []string{"status.containerStatuses[0].state: Forbidden: may not be transitioned to non-terminated state"}},
		{"terminated container restarts under Always", func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: terminated}}
		}, func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "web", State: running}}
		}, nil},
		{"custom condition type", nil, func(p *corev1.Pod) {
			p.Status.Conditions = []corev1.PodCondition{{Type: "bad type", Status: corev1.ConditionTrue}}
		}, []string{`metadata.conditions[0].Type: Invalid value: "bad type": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validPod()
			if tc.old != nil {
				tc.old(old)
			}
			pod := old.DeepCopy()
			tc.mutate(pod)
			checkErrors(t, ValidateStatusUpdate(context.Background(), pod, old), tc.want)
		})
	}
}
