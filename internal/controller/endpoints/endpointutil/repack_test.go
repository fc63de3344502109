package endpointutil

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

func a(ip string, uid ...string) corev1.EndpointAddress {
	ad := corev1.EndpointAddress{IP: ip}
	if len(uid) > 0 {
		ad.TargetRef = &corev1.ObjectReference{Kind: "Pod", UID: types.UID(uid[0])}
	}
	return ad
}

func p(name string, port int32) corev1.EndpointPort {
	return corev1.EndpointPort{Name: name, Port: port, Protocol: corev1.ProtocolTCP}
}

func ss(ports []corev1.EndpointPort, ready []corev1.EndpointAddress, notReady ...corev1.EndpointAddress) corev1.EndpointSubset {
	return corev1.EndpointSubset{Ports: ports, Addresses: ready, NotReadyAddresses: notReady}
}

func ps(p ...corev1.EndpointPort) []corev1.EndpointPort       { return p }
func as(a ...corev1.EndpointAddress) []corev1.EndpointAddress { return a }

func subsetsText(subsets []corev1.EndpointSubset) string {
	var b strings.Builder
	for _, s := range subsets {
		var parts []string
		for _, p := range s.Ports {
			parts = append(parts, fmt.Sprintf("%s:%d", p.Name, p.Port))
		}
		fmt.Fprintf(&b, "[%s]", strings.Join(parts, " "))
		for _, a := range s.Addresses {
			fmt.Fprintf(&b, " %s%s", a.IP, uid(a))
		}
		for _, a := range s.NotReadyAddresses {
			fmt.Fprintf(&b, " !%s%s", a.IP, uid(a))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func uid(a corev1.EndpointAddress) string {
	if a.TargetRef == nil {
		return ""
	}
	return "(" + string(a.TargetRef.UID) + ")"
}

func TestRepackSubsets(t *testing.T) {
	cases := []struct {
		name string
		in   []corev1.EndpointSubset
		want string
	}{
		{"empty", nil, ""},
		{"one address per port merged", []corev1.EndpointSubset{
			ss(ps(p("http", 80)), as(a("10.0.0.2"))), ss(ps(p("http", 80)), as(a("10.0.0.1"))),
		}, "[http:80] 10.0.0.1 10.0.0.2\n"},
		{"duplicates collapse; same IP, other target kept apart", []corev1.EndpointSubset{
			ss(ps(p("http", 80)), as(a("10.0.0.1", "u1"), a("10.0.0.1", "u1"), a("10.0.0.1", "u2"))),
		}, "[http:80] 10.0.0.1(u1) 10.0.0.1(u2)\n"},
		{"not ready trumps ready", []corev1.EndpointSubset{
			ss(ps(p("http", 80)), as(a("10.0.0.1")), a("10.0.0.2")), ss(ps(p("http", 80)), as(a("10.0.0.2"))),
		}, "[http:80] 10.0.0.1 !10.0.0.2\n"},
		{"ports with the same addresses grouped, others apart", []corev1.EndpointSubset{
			ss(ps(p("b", 2), p("a", 1)), as(a("10.0.0.1"), a("10.0.0.2"))), ss(ps(p("c", 3)), as(a("10.0.0.1"))),
		}, "[a:1 b:2] 10.0.0.1 10.0.0.2\n[c:3] 10.0.0.1\n"},
		{"same addresses but other readiness: separate subsets", []corev1.EndpointSubset{
			ss(ps(p("a", 1)), as(a("10.0.0.1"))), ss(ps(p("b", 2)), nil, a("10.0.0.1")),
		}, "[a:1] 10.0.0.1\n[b:2] !10.0.0.1\n"},
		{"subsets without ports kept", []corev1.EndpointSubset{
			ss(nil, as(a("10.0.0.2")), a("10.0.0.3")), ss(nil, as(a("10.0.0.1"))),
		}, "[] 10.0.0.1 10.0.0.2 !10.0.0.3\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := subsetsText(RepackSubsets(tc.in))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("repacked (-want +got):\n%s", diff)
			}
		})
	}
}
