package pod

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestValidateUpdate(t *testing.T) {
	tests := []struct {
		name   string
		old    func(*corev1.Pod)
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"image change", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "nginx:1.28" }, nil},
		{"labels only", nil, func(p *corev1.Pod) { p.Labels = map[string]string{"a": "b"} }, nil},
		{"node change", func(p *corev1.Pod) { p.Spec.NodeName = "node-a" }, func(p *corev1.Pod) { p.Spec.NodeName = "node-b" },
			[]string{updateForbidden + "- nodeName: \"node-a\"\n+ nodeName: \"node-b\"\n"}},
		{"port change", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 81 },
			[]string{updateForbidden +
				`- containers: [{"name":"web","image":"nginx:1.27","ports":[{"name":"http","containerPort":80,"protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}]` + "\n" +
				`+ containers: [{"name":"web","image":"nginx:1.27","ports":[{"name":"http","containerPort":81,"protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}]` + "\n"}},
		{"container added", nil, func(p *corev1.Pod) { p.Spec.Containers = append(p.Spec.Containers, container("b", "busybox")) },
			[]string{"spec.containers: Forbidden: pod updates may not add or remove containers"}},
		{"image removed", nil, func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]string{"spec.containers[0].image: Required value", "spec.containers[0].image: Required value"}},
		{"deadline set", nil, func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(60)) }, nil},
		{"deadline lowered", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(60)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(30)) }, nil},
		{"deadline raised", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(60)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(90)) },
			[]string{"spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous value"}},
		{"deadline removed", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(60)) },
			func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = nil },
			[]string{"spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"}},
		{"toleration added", nil, func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
		}, nil},
		{"toleration removed", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists}}
		}, func(p *corev1.Pod) { p.Spec.Tolerations = nil },
			[]string{"spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"}},
		{"scheduling gate added", nil, func(p *corev1.Pod) {
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/wait"}}
		}, []string{"spec.schedulingGates[0].name: Forbidden: only deletion is allowed, but found new scheduling gate 'example.com/wait'"}},
		{"negative grace period set to 1", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = new(int64(-1)) },
			func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = new(int64(1)) }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validPod()
			if tc.old != nil {
				tc.old(old)
			}
			pod := old.DeepCopy()
			tc.mutate(pod)
			checkErrors(t, ValidateUpdate(context.Background(), pod, old), tc.want)
		})
	}
}
