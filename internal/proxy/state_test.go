package proxy_test

import (
	"strings"
	"testing"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
)

// TestOverallState checks the categorized endpoints of the fixtures, which
// every backend's golden rules rest on.
func TestOverallState(t *testing.T) {
	st := proxytest.OverallState()
	got := map[string]string{}
	for _, s := range st.Services {
		got[s.Name.String()] = "cluster=" + eps(s.Cluster) + " local=" + eps(s.Local) + " all=" + eps(s.AllReachable) + " any=" + yes(s.HasAny)
	}
	want := map[string]string{
		"ns1/svc1:p80": "cluster=10.180.0.1:80 local= all=10.180.0.1:80 any=yes",
		"ns2/svc2:p80": "cluster=10.180.0.2:80 local= all=10.180.0.2:80 any=yes",
		"ns3/svc3:p80": "cluster=10.180.0.3:80 local= all=10.180.0.3:80 any=yes",
		"ns4/svc4:p80": "cluster=10.180.0.4:80,10.180.0.5:80 local= all=10.180.0.4:80,10.180.0.5:80 any=yes",
		"ns5/svc5:p80": "cluster=10.180.0.3:80 local= all=10.180.0.3:80 any=yes",
		"ns6/svc6:p80": "cluster= local= all= any=no",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %s, want %s", k, got[k], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d service ports, want %d", len(got), len(want))
	}
	svc5 := st.Service(st.Services[4].Name)
	if svc5 == nil || svc5.AffinitySeconds != 10800 || len(svc5.LoadBalancerSourceRanges) != 1 {
		t.Errorf("svc5: %+v", svc5)
	}
	if !st.Services[1].ExternalPolicyLocal || st.Services[1].HealthCheckNodePort != 30000 || st.Services[4].HealthCheckNodePort != 0 {
		t.Errorf("policies: svc2 %+v svc5 %+v", st.Services[1].ServicePort, st.Services[4].ServicePort)
	}
}

func eps(list []proxy.Endpoint) string {
	var s []string
	for _, e := range list {
		s = append(s, e.String())
	}
	return strings.Join(s, ",")
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
