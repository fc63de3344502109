package pod

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestDefault(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:  "web",
			Image: "nginx",
			Ports: []corev1.ContainerPort{{ContainerPort: 80}},
			Resources: corev1.ResourceRequirements{
				Limits: corev1.ResourceList{"cpu": resource.MustParse("100m")},
			},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)},
			}},
		}},
		Volumes: []corev1.Volume{{Name: "scratch"}},
	}}
	Default(pod)

	grace := int64(30)
	links := true
	want := corev1.PodSpec{
		DNSPolicy:                     corev1.DNSClusterFirst,
		RestartPolicy:                 corev1.RestartPolicyAlways,
		SecurityContext:               &corev1.PodSecurityContext{},
		TerminationGracePeriodSeconds: &grace,
		SchedulerName:                 "default-scheduler",
		EnableServiceLinks:            &links,
		Volumes:                       []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}},
		Containers: []corev1.Container{{
			Name:                     "web",
			Image:                    "nginx",
			Ports:                    []corev1.ContainerPort{{ContainerPort: 80, Protocol: corev1.ProtocolTCP}},
			ImagePullPolicy:          corev1.PullAlways,
			TerminationMessagePath:   "/dev/termination-log",
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			Resources: corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{"cpu": resource.MustParse("100m")},
				Requests: corev1.ResourceList{"cpu": resource.MustParse("100m")},
			},
			ReadinessProbe: &corev1.Probe{
				ProbeHandler:   corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), Scheme: corev1.URISchemeHTTP}},
				TimeoutSeconds: 1, PeriodSeconds: 10, SuccessThreshold: 1, FailureThreshold: 3,
			},
		}},
	}
	if !equality.Semantic.DeepEqual(pod.Spec, want) {
		t.Errorf("defaulted spec:\n got %+v\nwant %+v", pod.Spec, want)
	}
}

func TestDefaultPodSpecLeavesPodOnlyFields(t *testing.T) {
	spec := &corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
		Name: "c", Image: "x", Ports: []corev1.ContainerPort{{ContainerPort: 80}},
		Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("1")}},
	}}}
	DefaultPodSpec(spec)
	if spec.EnableServiceLinks != nil {
		t.Errorf("enableServiceLinks = %v, want unset in a template", *spec.EnableServiceLinks)
	}
	if c := spec.Containers[0]; c.Resources.Requests != nil || c.Ports[0].HostPort != 0 {
		t.Errorf("template container got pod-only defaults: %+v", c)
	}
}

func TestDefaultHostNetworkPorts(t *testing.T) {
	pod := &corev1.Pod{Spec: corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{
		Name: "c", Image: "x", Ports: []corev1.ContainerPort{{ContainerPort: 8080}},
	}}}}
	Default(pod)
	if got := pod.Spec.Containers[0].Ports[0].HostPort; got != 8080 {
		t.Errorf("hostPort = %d, want 8080", got)
	}
}

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.27", corev1.PullIfNotPresent},
		{"registry:5000/team/app", corev1.PullAlways},
		{"registry:5000/team/app:v2", corev1.PullIfNotPresent},
		{"nginx@sha256:0123456789abcdef", corev1.PullIfNotPresent},
		{"nginx:latest@sha256:0123456789abcdef", corev1.PullAlways},
		{"", corev1.PullIfNotPresent},
	}
	for _, tc := range tests {
		if got := pullPolicyFor(tc.image); got != tc.want {
			t.Errorf("pullPolicyFor(%q) = %s, want %s", tc.image, got, tc.want)
		}
	}
}

func TestDefaultKeepsSetValues(t *testing.T) {
	grace := int64(5)
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever, DNSPolicy: corev1.DNSDefault,
		TerminationGracePeriodSeconds: &grace, SchedulerName: "mine",
		Containers: []corev1.Container{{Name: "c", Image: "x", ImagePullPolicy: corev1.PullNever}},
	}}
	Default(pod)
	s := pod.Spec
	if s.RestartPolicy != "Never" || s.DNSPolicy != "Default" || *s.TerminationGracePeriodSeconds != 5 ||
		s.SchedulerName != "mine" || s.Containers[0].ImagePullPolicy != "Never" {
		t.Errorf("defaulting overwrote set values: %+v", s)
	}
}

func TestDefaultSyncsIPs(t *testing.T) {
	cases := []struct {
		name string
		in   corev1.PodStatus
		want corev1.PodStatus
	}{
		{"podIP only", corev1.PodStatus{PodIP: "10.244.0.9"},
			corev1.PodStatus{PodIP: "10.244.0.9", PodIPs: []corev1.PodIP{{IP: "10.244.0.9"}}}},
		{"podIPs only", corev1.PodStatus{PodIPs: []corev1.PodIP{{IP: "10.244.0.9"}, {IP: "fd00::9"}}},
			corev1.PodStatus{PodIP: "10.244.0.9", PodIPs: []corev1.PodIP{{IP: "10.244.0.9"}, {IP: "fd00::9"}}}},
		{"hostIP only", corev1.PodStatus{HostIP: "10.240.0.2"},
			corev1.PodStatus{HostIP: "10.240.0.2", HostIPs: []corev1.HostIP{{IP: "10.240.0.2"}}}},
		{"none", corev1.PodStatus{}, corev1.PodStatus{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.in
			syncIPs(&st)
			if !reflect.DeepEqual(st, tc.want) {
				t.Fatalf("got %+v, want %+v", st, tc.want)
			}
		})
	}
}
