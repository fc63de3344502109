package service

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

const (
	dns1123LabelMsg = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	subdomainMsg    = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
	nameMsg         = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
	labelValueMsg   = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	ipMsg           = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"
	cidrMsg         = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"
	portRangeMsg    = "must be between 1 and 65535, inclusive"
)

type validateCase struct {
	name string
	svc  *corev1.Service
	cfg  Config
	want []string
}

func runValidate(t *testing.T, tests []validateCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.IPFamilies == nil {
				cfg = singleV4
			}
			checkErrors(t, Validate(tt.svc, cfg), tt.want)
		})
	}
}

func TestValidatePorts(t *testing.T) {
	runValidate(t, []validateCase{
		{name: "valid ClusterIP Service", svc: stored()},
		{name: "ports are required", svc: stored(withPorts()), want: []string{"spec.ports: Required value"}},
		{name: "ports are not required when headless", svc: stored(withPorts(), headless)},
		{name: "ports are not required for ExternalName", svc: stored(withPorts(), externalName("example.com"))},
		{
			name: "port name is required with several ports",
			svc:  stored(withPorts(port("http", 80, "TCP"), port("", 81, "TCP"))),
			want: []string{"spec.ports[1].name: Required value"},
		}, {
			name: "port names are unique",
			svc:  stored(withPorts(port("http", 80, "TCP"), port("http", 81, "TCP"))),
			want: []string{`spec.ports[1].name: Duplicate value: "http"`},
		}, {
			name: "port name is a DNS-1123 label",
			svc:  stored(withPorts(port("HTTP", 80, "TCP"))),
			want: []string{`spec.ports[0].name: Invalid value: "HTTP": ` + dns1123LabelMsg},
		}, {
			name: "port is between 1 and 65535",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].Port = 0 }),
			want: []string{"spec.ports[0].port: Invalid value: 0: " + portRangeMsg},
		}, {
			name: "port protocol is required",
			svc:  stored(withPorts(port("", 80, ""))),
			want: []string{"spec.ports[0].protocol: Required value"},
		}, {
			name: "port protocol is TCP, UDP or SCTP",
			svc:  stored(withPorts(port("", 80, "HTTP"))),
			want: []string{`spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"`},
		}, {
			name: "targetPort number is between 1 and 65535",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromInt32(65536) }),
			want: []string{"spec.ports[0].targetPort: Invalid value: 65536: " + portRangeMsg},
		}, {
			name: "targetPort name is an IANA_SVC_NAME",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("Web_Port") }),
			want: []string{`spec.ports[0].targetPort: Invalid value: "Web_Port": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)`},
		}, {
			name: "targetPort name has at most 15 characters",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("very-long-port-name") }),
			want: []string{`spec.ports[0].targetPort: Invalid value: "very-long-port-name": must be no more than 15 characters`},
		}, {
			name: "targetPort on a headless Service is tolerated",
			svc:  stored(headless, func(s *corev1.Service) { s.Spec.Ports[0].TargetPort = intstr.FromString("web") }),
		}, {
			name: "appProtocol is a qualified name",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].AppProtocol = ptrTo("-h2c") }),
			want: []string{`spec.ports[0].appProtocol: Invalid value: "-h2c": ` + nameMsg},
		}, {
			name: "appProtocol may be prefixed",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].AppProtocol = ptrTo("kubernetes.io/h2c") }),
		}, {
			name: "port and protocol pairs are unique",
			svc:  stored(withPorts(port("a", 80, "TCP"), port("b", 80, "TCP"))),
			want: []string{`spec.ports[1]: Duplicate value: {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}`},
		}, {
			name: "same port with another protocol is allowed",
			svc:  stored(withPorts(port("dns", 53, "TCP"), port("dns-udp", 53, "UDP"))),
		}, {
			name: "nodePort is forbidden for ClusterIP",
			svc:  stored(func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30001 }),
			want: []string{"spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"},
		}, {
			name: "nodePort and protocol pairs are unique",
			svc: stored(nodePortType(30001), func(s *corev1.Service) {
				s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "b", Port: 81, Protocol: "TCP", TargetPort: intstr.FromInt32(81), NodePort: 30001})
				s.Spec.Ports[0].Name = "a"
			}),
			want: []string{"spec.ports[1].nodePort: Duplicate value: 30001"},
		}, {
			name: "same nodePort with another protocol is allowed",
			svc: stored(nodePortType(30053), func(s *corev1.Service) {
				s.Spec.Ports = append(s.Spec.Ports, corev1.ServicePort{Name: "b", Port: 80, Protocol: "UDP", TargetPort: intstr.FromInt32(80), NodePort: 30053})
				s.Spec.Ports[0].Name = "a"
			}),
		},
	})
}

func TestValidateTypes(t *testing.T) {
	runValidate(t, []validateCase{
		{name: "valid NodePort Service", svc: stored(nodePortType(30080))},
		{name: "valid LoadBalancer Service", svc: stored(loadBalancer(30080))},
		{name: "valid LoadBalancer Service with Local traffic", svc: stored(loadBalancer(30080), localTraffic(30100))},
		{name: "valid ExternalName Service", svc: stored(externalName("db.example.com"))},
		{name: "valid headless Service", svc: stored(headless)},
		{
			name: "type is required",
			svc:  stored(withType("")),
			want: []string{"spec.type: Required value"},
		}, {
			name: "type is one of the four",
			svc:  stored(withType("Foo")),
			want: []string{`spec.type: Unsupported value: "Foo": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"`},
		}, {
			name: "NodePort may not be headless",
			svc:  stored(nodePortType(0), headless),
			want: []string{`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for NodePort services`},
		}, {
			name: "LoadBalancer may not be headless",
			svc:  stored(loadBalancer(0), headless),
			want: []string{`spec.clusterIPs[0]: Invalid value: "None": may not be set to 'None' for LoadBalancer services`},
		}, {
			name: "externalName is required for ExternalName",
			svc:  stored(externalName("")),
			want: []string{"spec.externalName: Required value"},
		}, {
			name: "externalName is a DNS-1123 subdomain",
			svc:  stored(externalName("db_1.example.com")),
			want: []string{`spec.externalName: Invalid value: "db_1.example.com": ` + subdomainMsg},
		}, {
			name: "externalName may end with a dot",
			svc:  stored(externalName("db.example.com.")),
		}, {
			name: "ExternalName forbids clusterIPs, ipFamilies and ipFamilyPolicy",
			svc: stored(externalName("db.example.com"), withClusterIPs("10.96.0.10"),
				withFamilies(corev1.IPFamilyPolicySingleStack, corev1.IPv4Protocol)),
			want: []string{
				"spec.clusterIPs: Forbidden: may not be set for ExternalName services",
				"spec.ipFamilies: Forbidden: may not be set for ExternalName services",
				"spec.ipFamilyPolicy: Forbidden: may not be set for ExternalName services",
			},
		}, {
			name: "selector labels are valid",
			svc:  stored(func(s *corev1.Service) { s.Spec.Selector = map[string]string{"app": "web server"} }),
			want: []string{`spec.selector: Invalid value: "web server": ` + labelValueMsg},
		}, {
			name: "topology-mode must match topology-aware-hints",
			svc: stored(func(s *corev1.Service) {
				s.Annotations = map[string]string{
					"service.kubernetes.io/topology-mode":        "Auto",
					"service.kubernetes.io/topology-aware-hints": "Disabled",
				}
			}),
			want: []string{`metadata.annotations[service.kubernetes.io/topology-mode]: Invalid value: "Auto": must match annotations[service.kubernetes.io/topology-aware-hints] when both are specified`},
		},
	})
}

func TestValidateName(t *testing.T) {
	checkStrings(t, "valid", ValidateName("web-1", false), nil)
	checkStrings(t, "starts with digit", ValidateName("1web", false), []string{
		"a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
	})
	checkStrings(t, "generateName prefix", ValidateName("web-", true), nil)
}
