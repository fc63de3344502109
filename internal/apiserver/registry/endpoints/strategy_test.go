package endpoints

import (
	"context"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func checkErrors(t *testing.T, errs field.ErrorList, want []string) {
	t.Helper()
	got := make([]string, len(errs))
	for i, e := range errs {
		got[i] = e.Error()
	}
	if !slices.Equal(got, want) {
		t.Errorf("errors:\n got: %s\nwant: %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

func subset(ips []string, ports ...corev1.EndpointPort) corev1.EndpointSubset {
	ss := corev1.EndpointSubset{Ports: ports}
	for _, ip := range ips {
		ss.Addresses = append(ss.Addresses, corev1.EndpointAddress{IP: ip})
	}
	return ss
}

func TestDefault(t *testing.T) {
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{subset([]string{"10.0.0.1"}, corev1.EndpointPort{Port: 80})}}
	Strategy().Default(ep)
	if got := ep.Subsets[0].Ports[0].Protocol; got != corev1.ProtocolTCP {
		t.Errorf("protocol %q, want TCP", got)
	}
}

func TestValidate(t *testing.T) {
	http := corev1.EndpointPort{Name: "http", Port: 80, Protocol: "TCP"}
	tests := []struct {
		name string
		ss   corev1.EndpointSubset
		want []string
	}{
		{"valid", subset([]string{"10.244.0.5", "fd00::5"}, http), nil},
		{"no ports (headless)", subset([]string{"10.244.0.5"}), nil},
		{"no addresses", subset(nil, http),
			[]string{"subsets[0]: Required value: must specify `addresses` or `notReadyAddresses`"}},
		{"not an IP", subset([]string{"web"}, http), []string{
			`subsets[0].addresses[0].ip: Invalid value: "web": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)`,
			`subsets[0].addresses[0].ip: Invalid value: "web": must be a valid IP address`,
		}},
		{"loopback", subset([]string{"127.0.0.1"}, http),
			[]string{`subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)`}},
		{"link-local", subset([]string{"169.254.1.1"}, http),
			[]string{`subsets[0].addresses[0].ip: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)`}},
		{"link-local multicast", subset([]string{"224.0.0.1"}, http),
			[]string{`subsets[0].addresses[0].ip: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)`}},
		{"unspecified", subset([]string{"0.0.0.0"}, http),
			[]string{`subsets[0].addresses[0].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)`}},
		{"port 0", subset([]string{"10.0.0.1"}, corev1.EndpointPort{Port: 0, Protocol: "TCP"}),
			[]string{"subsets[0].ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"}},
		{"unnamed port among two", subset([]string{"10.0.0.1"}, http, corev1.EndpointPort{Port: 443, Protocol: "TCP"}),
			[]string{"subsets[0].ports[1].name: Required value"}},
		{"bad protocol", subset([]string{"10.0.0.1"}, corev1.EndpointPort{Port: 53, Protocol: "ICMP"}),
			[]string{`subsets[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{tc.ss}}
			checkErrors(t, Validate(context.Background(), ep), tc.want)
		})
	}
}

func TestValidateAddressFields(t *testing.T) {
	node := "Node_1"
	ep := &corev1.Endpoints{Subsets: []corev1.EndpointSubset{{
		NotReadyAddresses: []corev1.EndpointAddress{{IP: "10.0.0.1", Hostname: "web.0", NodeName: &node}},
	}}}
	checkErrors(t, ValidateUpdate(context.Background(), ep, ep), []string{
		`subsets[0].notReadyAddresses[0].hostname: Invalid value: "web.0": must not contain dots`,
		`subsets[0].notReadyAddresses[0].nodeName: Invalid value: "Node_1": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	})
}
