package e2e

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const dnsManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: my-nginx}
spec:
  replicas: 2
  selector: {matchLabels: {run: my-nginx}}
  template:
    metadata: {labels: {run: my-nginx}}
    spec:
      containers: [{name: nginx, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Service
metadata: {name: my-nginx}
spec:
  selector: {run: my-nginx}
  ports: [{name: http, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: default-subdomain}
spec:
  clusterIP: None
  selector: {name: busybox}
  ports: [{name: foo, port: 1234}]
---
apiVersion: v1
kind: Pod
metadata: {name: busybox1, labels: {name: busybox}}
spec:
  hostname: busybox-1
  subdomain: default-subdomain
  containers: [{name: busybox, image: "busybox:1.28", command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: foo.example.com
---
apiVersion: v1
kind: Pod
metadata: {name: bb}
spec:
  containers: [{name: c, image: "busybox:1.28.4", command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: bb, namespace: kube-system}
spec:
  containers: [{name: c, image: "busybox:1.28.4", command: [sleep, "3600"]}]
`

// TestClusterDNS is issue 11's walk through cluster DNS from busybox pods
// (through the kube-dns Service, so through the proxy) and dig on the
// node: Service, headless and pod hostname records, the search path,
// ExternalName, SRV, and a name outside the cluster answered by an
// upstream server the test runs inside the sandbox.
func TestClusterDNS(t *testing.T) {
	t.Parallel()
	upstream := nodeAddr + ":1053"
	s := startSandbox(t, "--dns-upstream", upstream)
	s.startTestDNS(t, upstream, "outside.example. A 10.240.77.7")
	s.apply(t, dnsManifest)
	for _, pod := range []string{"bb", "busybox1"} {
		s.waitRunningReady(t, pod)
	}
	s.waitFor(t, 60*time.Second, "kube-system/bb Running", func() (bool, string) {
		out, _ := s.kubectl("-n", "kube-system", "get", "pod", "bb", "-o", "jsonpath={.status.phase}")
		return out == "Running", out
	})
	s.waitFor(t, 60*time.Second, "kube-dns endpoints", func() (bool, string) {
		out, _ := s.kubectl("-n", "kube-system", "get", "endpoints", "kube-dns", "-o", "jsonpath={.subsets[0].addresses[0].ip}")
		return out == nodeAddr, out
	})
	nginxIP := s.clusterIP(t, "my-nginx")
	apiIP := s.clusterIP(t, "kubernetes")
	podIP := s.podField("busybox1", "{.status.podIP}")

	t.Run("nslookup kubernetes prints busybox 1.28's answer", func(t *testing.T) {
		want := "Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n" +
			"Name:      kubernetes\nAddress 1: " + apiIP + " kubernetes.default.svc.cluster.local\n"
		s.waitFor(t, 30*time.Second, "nslookup kubernetes", func() (bool, string) {
			out, err := s.kubectl("exec", "bb", "--", "nslookup", "kubernetes")
			return err == nil && out == want, out
		})
	})
	for _, c := range []struct{ ns, name, want string }{
		{"default", "my-nginx", "Address 1: " + nginxIP + " my-nginx.default.svc.cluster.local"},
		{"kube-system", "kubernetes.default", "Address 1: " + apiIP + " kubernetes.default.svc.cluster.local"},
		{"default", "default-subdomain", "Address 1: " + podIP + " busybox-1.default-subdomain.default.svc.cluster.local"},
		{"default", "busybox-1.default-subdomain.default.svc.cluster.local", "Address 1: " + podIP},
		{"default", "outside.example", "Address 1: 10.240.77.7"},
	} {
		t.Run("nslookup "+c.name+" in "+c.ns, func(t *testing.T) {
			s.waitFor(t, 30*time.Second, "nslookup "+c.name, func() (bool, string) {
				out, err := s.kubectl("-n", c.ns, "exec", "bb", "--", "nslookup", c.name)
				return err == nil && strings.Contains(out, c.want), out
			})
		})
	}
	t.Run("nslookup kubernetes fails in kube-system", func(t *testing.T) {
		out, err := s.kubectl("-n", "kube-system", "exec", "bb", "--", "nslookup", "kubernetes")
		if err == nil || !strings.Contains(out, "can't resolve 'kubernetes'") {
			t.Errorf("nslookup kubernetes from kube-system: %v\n%s", err, out)
		}
	})
	for _, c := range []struct{ args, want string }{
		{"+short CNAME ext.default.svc.cluster.local", "foo.example.com."},
		{"+short SRV _http._tcp.my-nginx.default.svc.cluster.local", "0 100 80 my-nginx.default.svc.cluster.local."},
		{"+short +tcp A my-nginx.default.svc.cluster.local", nginxIP},
		{"+short -x " + nginxIP, "my-nginx.default.svc.cluster.local."},
	} {
		t.Run("dig "+c.args, func(t *testing.T) {
			args := append([]string{"--net=" + s.nodeNetns(), "dig", "@10.96.0.10", "+time=2", "+tries=1"}, strings.Fields(c.args)...)
			out, err := exec.Command("nsenter", args...).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != c.want {
				t.Errorf("dig %s: %v\n%s", c.args, err, out)
			}
		})
	}
	t.Run("svcplane dns serves /metrics with CoreDNS's names", func(t *testing.T) {
		out, err := exec.Command("nsenter", "--net="+s.nodeNetns(), "curl", "-sS", "--max-time", "3", fmt.Sprintf("http://%s:9153/metrics", nodeAddr)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "coredns_dns_requests_total") {
			t.Errorf("metrics: %v\n%s", err, tail(string(out), 5))
		}
	})
}
