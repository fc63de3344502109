package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestDNSEndpointsReplaced is issue 11's "a UDP query keeps working while
// the DNS endpoints are replaced": a busybox pod asks 10.96.0.10 for a name
// four times a second while the kube-dns Endpoints move from one server
// to another and the first one stops. Every query must be answered.
func TestDNSEndpointsReplaced(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, "--no-dns") // the test's own servers stand behind kube-dns
	nodeIP := s.must(t, "get", "node", s.name, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	record := "probe.default.svc.cluster.local. A 10.240.66.6"
	stopFirst := s.startTestDNS(t, nodeIP+":53", record)
	s.startTestDNS(t, nodeIP+":5353", record)
	s.apply(t, kubeDNSEndpoints(nodeIP, 53))
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: asker}
spec:
  nodeName: %s
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'sleep 2; for i in $(seq 60); do if nslookup -type=a probe.default.svc.cluster.local >/dev/null 2>&1; then echo ok; else echo FAIL $i; fi; sleep 0.25; done']
`, s.name))
	s.waitRunningReady(t, "asker")
	time.Sleep(4 * time.Second)
	s.apply(t, kubeDNSEndpoints(nodeIP, 5353))
	time.Sleep(3 * time.Second) // the proxy's rules follow within its minSyncPeriod
	stopFirst()
	s.waitFor(t, 90*time.Second, "asker done", func() (bool, string) {
		out := s.podField("asker", "{.status.phase}")
		return out == "Succeeded" || out == "Failed", out
	})
	out := s.must(t, "logs", "asker")
	if n := strings.Count(out, "ok\n"); n != 60 || strings.Contains(out, "FAIL") {
		t.Errorf("%d of 60 queries answered:\n%s", n, out)
	}
}

// kubeDNSEndpoints is the kube-dns Service with its Endpoints on one
// server of the node.
func kubeDNSEndpoints(nodeIP string, port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec:
  clusterIP: 10.96.0.10
  ports:
  - {name: dns, port: 53, protocol: UDP, targetPort: %[2]d}
---
apiVersion: v1
kind: Endpoints
metadata: {name: kube-dns, namespace: kube-system}
subsets:
- addresses: [{ip: %[1]s}]
  ports: [{name: dns, port: %[2]d, protocol: UDP}]
`, nodeIP, port)
}
