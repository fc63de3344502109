package pod

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestValidate(t *testing.T) {
	always := corev1.ContainerRestartPolicyAlways
	tests := []struct {
		name   string
		mutate func(*corev1.Pod)
		want   []string
	}{
		{"valid", func(*corev1.Pod) {}, nil},
		{"no containers", func(p *corev1.Pod) { p.Spec.Containers = nil },
			[]string{"spec.containers: Required value"}},
		{"container name not a DNS label", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "Web_1" },
			[]string{`spec.containers[0].name: Invalid value: "Web_1": ` + dnsLabelMsg}},
		{"container name missing", func(p *corev1.Pod) { p.Spec.Containers[0].Name = "" },
			[]string{"spec.containers[0].name: Required value"}},
		{"duplicate container names", func(p *corev1.Pod) {
			p.Spec.Containers = append(p.Spec.Containers, container("web", "busybox"))
		}, []string{`spec.containers[1].name: Duplicate value: "web"`}},
		{"init container named like a container", func(p *corev1.Pod) {
			p.Spec.InitContainers = []corev1.Container{container("web", "busybox")}
		}, []string{`spec.initContainers[0].name: Duplicate value: "web"`}},
		{"image missing", func(p *corev1.Pod) { p.Spec.Containers[0].Image = "" },
			[]string{"spec.containers[0].image: Required value"}},
		{"image with spaces", func(p *corev1.Pod) { p.Spec.Containers[0].Image = " nginx" },
			[]string{`spec.containers[0].image: Invalid value: " nginx": must not have leading or trailing whitespace`}},
		{"container port missing", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 0 },
			[]string{"spec.containers[0].ports[0].containerPort: Required value"}},
		{"container port out of range", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].ContainerPort = 70000 },
			[]string{"spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive"}},
		{"host port out of range", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].HostPort = -1 },
			[]string{"spec.containers[0].ports[0].hostPort: Invalid value: -1: must be between 1 and 65535, inclusive"}},
		{"protocol unsupported", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Protocol = "HTTP" },
			[]string{`spec.containers[0].ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`}},
		{"port name not IANA_SVC_NAME", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "http_1" },
			[]string{`spec.containers[0].ports[0].name: Invalid value: "http_1": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`}},
		{"port name too long", func(p *corev1.Pod) { p.Spec.Containers[0].Ports[0].Name = "verylongportname1" },
			[]string{`spec.containers[0].ports[0].name: Invalid value: "verylongportname1": must be no more than 15 characters`}},
		{"duplicate port names", func(p *corev1.Pod) {
			p.Spec.Containers[0].Ports = append(p.Spec.Containers[0].Ports, corev1.ContainerPort{Name: "http", ContainerPort: 81, Protocol: "TCP"})
		}, []string{`spec.containers[0].ports[1].name: Duplicate value: "http"`}},
		{"host port used twice", func(p *corev1.Pod) {
			c := container("sidecar", "busybox")
			c.Ports = []corev1.ContainerPort{{ContainerPort: 8080, HostPort: 80, Protocol: "TCP"}}
			p.Spec.Containers[0].Ports[0].HostPort = 80
			p.Spec.Containers = append(p.Spec.Containers, c)
		}, []string{`spec.containers[1].ports[0].hostPort: Duplicate value: "TCP//80"`}},
		{"restartPolicy unsupported", func(p *corev1.Pod) { p.Spec.RestartPolicy = "Sometimes" },
			[]string{`spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"`}},
		{"dnsPolicy missing", func(p *corev1.Pod) { p.Spec.DNSPolicy = "" },
			[]string{"spec.dnsPolicy: Required value"}},
		{"dnsPolicy unsupported", func(p *corev1.Pod) { p.Spec.DNSPolicy = "Cluster" },
			[]string{`spec.dnsPolicy: Unsupported value: "Cluster": supported values: "ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"`}},
		{"dnsPolicy None without dnsConfig", func(p *corev1.Pod) { p.Spec.DNSPolicy = corev1.DNSNone },
			[]string{"spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"}},
		{"hostname not a DNS label", func(p *corev1.Pod) { p.Spec.Hostname = "web.1" },
			[]string{`spec.hostname: Invalid value: "web.1": must not contain dots`}},
		{"subdomain not a DNS label", func(p *corev1.Pod) { p.Spec.Subdomain = "Svc" },
			[]string{`spec.subdomain: Invalid value: "Svc": ` + dnsLabelMsg}},
		{"nodeName not a DNS subdomain", func(p *corev1.Pod) { p.Spec.NodeName = "Node_1" },
			[]string{`spec.nodeName: Invalid value: "Node_1": ` + dnsSubdomainMsg}},
		{"terminationGracePeriodSeconds missing", func(p *corev1.Pod) { p.Spec.TerminationGracePeriodSeconds = nil },
			[]string{"spec.terminationGracePeriodSeconds: Required value"}},
		{"activeDeadlineSeconds zero", func(p *corev1.Pod) { p.Spec.ActiveDeadlineSeconds = new(int64(0)) },
			[]string{"spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive"}},
		{"request above limit", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{"cpu": resource.MustParse("1")},
				Requests: corev1.ResourceList{"cpu": resource.MustParse("2")},
			}
		}, []string{`spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1`}},
		{"negative limit", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"memory": resource.MustParse("-1")}
		}, []string{`spec.containers[0].resources.limits[memory]: Invalid value: "-1": must be greater than or equal to 0`}},
		{"unknown resource name", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"gpu": resource.MustParse("1")}
		}, []string{
			`spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource type or fully qualified`,
			`spec.containers[0].resources.limits[gpu]: Invalid value: "gpu": must be a standard resource for containers`,
		}},
		{"extended resource request without limit", func(p *corev1.Pod) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"example.com/gpu": resource.MustParse("1")}
		}, []string{"spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable resources"}},
		{"volume mount without volume", func(p *corev1.Pod) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}
		}, []string{`spec.containers[0].volumeMounts[0].name: Not found: "data"`}},
		{"volume with two sources", func(p *corev1.Pod) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/tmp"}}}}
		}, []string{"spec.volumes[0].emptyDir: Forbidden: may not specify more than 1 volume type"}},
		{"duplicate volume names", func(p *corev1.Pod) {
			empty := corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
			p.Spec.Volumes = []corev1.Volume{{Name: "data", VolumeSource: empty}, {Name: "data", VolumeSource: empty}}
		}, []string{`spec.volumes[1].name: Duplicate value: "data"`}},
		{"liveness probe successThreshold", func(p *corev1.Pod) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{
				ProbeHandler:     corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(80)}},
				SuccessThreshold: 2, TimeoutSeconds: 1, PeriodSeconds: 10, FailureThreshold: 3,
			}
		}, []string{"spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"}},
		{"readiness probe without handler", func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{}
		}, []string{"spec.containers[0].readinessProbe: Required value: must specify a handler type"}},
		{"probe with two handlers", func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec:      &corev1.ExecAction{Command: []string{"true"}},
				TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromString("http")},
			}}
		}, []string{"spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type"}},
		{"httpGet scheme", func(p *corev1.Pod) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(80), Scheme: "FTP"},
			}}
		}, []string{`spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS"`}},
		{"init container with a probe", func(p *corev1.Pod) {
			c := container("setup", "busybox")
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
			p.Spec.InitContainers = []corev1.Container{c}
		}, []string{"spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always"}},
		{"sidecar init container with a probe", func(p *corev1.Pod) {
			c := container("proxy", "envoy")
			c.RestartPolicy = &always
			c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"true"}}}}
			p.Spec.InitContainers = []corev1.Container{c}
		}, nil},
		{"restartPolicy on a regular container", func(p *corev1.Pod) { p.Spec.Containers[0].RestartPolicy = &always },
			[]string{"spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers"}},
		{"host network with another host port", func(p *corev1.Pod) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports[0].HostPort = 8080
		}, []string{"spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"}},
		{"env fieldRef not readable", func(p *corev1.Pod) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "PHASE", ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "status.phase"}}}}
		}, []string{`spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "status.phase": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"`}},
		{"env name with =", func(p *corev1.Pod) { p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}} },
			[]string{`spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='`}},
		{"toleration without key nor Exists", func(p *corev1.Pod) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpEqual, Value: "x"}}
		}, []string{"spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` is empty, which means \"match all values and all keys\""}},
		{"duplicate scheduling gate", func(p *corev1.Pod) {
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/a"}, {Name: "example.com/a"}}
		}, []string{`spec.schedulingGates[1]: Duplicate value: "example.com/a"`}},
		{"ephemeral containers on create", func(p *corev1.Pod) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug"}}}
		}, []string{"spec.ephemeralContainers: Forbidden: cannot be set on create"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := validPod()
			tc.mutate(pod)
			checkErrors(t, Validate(context.Background(), pod), tc.want)
		})
	}
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{}
	tpl.Labels = map[string]string{"app": "web", "bad key": "x"}
	tpl.Spec = validPod().Spec
	tpl.Spec.EnableServiceLinks = nil
	tpl.Spec.EphemeralContainers = []corev1.EphemeralContainer{{}}
	checkErrors(t, ValidatePodTemplateSpec(tpl, nil), []string{
		`labels: Invalid value: "bad key": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
		"spec.ephemeralContainers: Forbidden: ephemeral containers not allowed in pod template",
	})
}
