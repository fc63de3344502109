package app

import "testing"

func TestKubernetesServiceIP(t *testing.T) {
	for _, tc := range []struct {
		cidrs []string
		want  string
	}{
		{nil, "<nil>"},
		{[]string{"10.96.0.0/12"}, "10.96.0.1"},
		{[]string{"10.200.0.0/16", "fd00::/108"}, "10.200.0.1"},
		{[]string{"fd00::/108", "10.96.0.0/12"}, "fd00::1"},
	} {
		ip, err := kubernetesServiceIP(tc.cidrs)
		if err != nil || ip.String() != tc.want {
			t.Errorf("%v: %v %v, want %s", tc.cidrs, ip, err, tc.want)
		}
	}
	if _, err := kubernetesServiceIP([]string{"nope"}); err == nil {
		t.Error("a bad CIDR is accepted")
	}
}
