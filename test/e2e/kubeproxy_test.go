package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestUpstreamKubeProxy is issue 20's item 6: upstream kube-proxy, of the
// release svcplane reports and built from the k8s.io/kubernetes module by
// hack/upstream/build.sh, runs in a sandbox's node namespace (svcplane's
// own proxy off) with only the admin kubeconfig, and carries ClusterIP
// traffic from a pod and NodePort traffic from outside the node, first in
// its iptables mode, then in its nftables mode. ClusterIP traffic from a
// pod passes through the node's forwarding path, so it also checks item 1:
// the node namespace's sysctls as kubeadm's preflight wants them. Skipped
// only where the k8s.io/kubernetes module cannot be fetched.
func TestUpstreamKubeProxy(t *testing.T) {
	t.Parallel()
	needRoot(t)
	kubeProxy := upstreamBinary(t, "kube-proxy")
	s := startSandbox(t, "--no-proxy")
	client := s.clientNamespace(t)
	s.apply(t, hostnamesManifest)
	s.must(t, "run", "bb", "--image=busybox", "--restart=Never", "--", "sleep", "3600")
	s.waitRunningReady(t, "bb")
	s.waitFor(t, 60*time.Second, "3 hostnames pods Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "deploy", "hostnames", "-o", "jsonpath={.status.readyReplicas}")
		return out == "3", out
	})
	pods := strings.Fields(s.must(t, "get", "pods", "-l", "app=hostnames", "-o", `jsonpath={range .items[*]}{.metadata.name}{" "}{end}`))
	ip := s.clusterIP(t, "hostnames")
	nodePort := s.must(t, "get", "svc", "hostnames-np", "-o", "jsonpath={.spec.ports[0].nodePort}")
	t.Run("node namespace sysctls", func(t *testing.T) { s.checkNodeSysctls(t) })

	for _, mode := range []string{"iptables", "nftables"} {
		t.Run(mode, func(t *testing.T) {
			out := s.runKubeProxy(t, kubeProxy, mode)
			s.waitFor(t, 60*time.Second, "the ClusterIP answering a pod through kube-proxy's "+mode+" rules", func() (bool, string) {
				got, err := s.fetch("bb", "http://"+ip+"/")
				return err == nil && strings.HasPrefix(got, "hostnames-"), got + "\n" + tail(out.String(), 10)
			})
			client.wantHostname(t, s, "http://"+nodeAddr+":"+nodePort+"/", pods)
			s.checkKubeProxyRules(t, mode, ip)
		})
	}
	t.Run("events through both APIs", func(t *testing.T) { s.checkEventsBothAPIs(t) })
}

// checkEventsBothAPIs is issue 20's item 2 with real writers: kube-proxy
// records its Starting event through events.k8s.io/v1 and svcplane's agent
// records its container events through core/v1; each is listed through
// the other API.
func (s *sandbox) checkEventsBothAPIs(t *testing.T) {
	t.Helper()
	s.waitFor(t, 30*time.Second, "kube-proxy's events.k8s.io event listed through core/v1", func() (bool, string) {
		out, _ := s.kubectl("get", "events", "-n", "default", "-o", `jsonpath={range .items[*]}{.reportingComponent}/{.reason} {end}`)
		return strings.Contains(out, "kube-proxy/Starting"), out
	})
	s.waitFor(t, 30*time.Second, "the agent's core/v1 event listed through events.k8s.io/v1", func() (bool, string) {
		out, _ := s.kubectl("get", "events.events.k8s.io", "-n", "default", "-o", `jsonpath={range .items[*]}{.regarding.name}/{.reason} {end}`)
		return strings.Contains(out, "bb/Started"), out
	})
}

// upstreamBinary builds (or finds built) an upstream program with
// hack/upstream/build.sh and returns its path. hack/test.sh builds them
// before the tests, so here it is quick. The test is skipped, saying why,
// only when the k8s.io/kubernetes module cannot be fetched; any other
// failure fails it.
func upstreamBinary(t *testing.T, target string) string {
	t.Helper()
	dir, err := filepath.Abs("../../hack/upstream")
	if err != nil {
		t.Fatal(err)
	}
	fetch := exec.Command("go", "mod", "download", "k8s.io/kubernetes")
	fetch.Dir = dir
	if out, err := fetch.CombinedOutput(); err != nil {
		t.Skipf("the k8s.io/kubernetes module cannot be fetched here, so upstream %s cannot be built: %v\n%s", target, err, tail(string(out), 5))
	}
	build := exec.Command(filepath.Join(dir, "build.sh"), target)
	var stderr strings.Builder
	build.Stderr = &stderr
	out, err := build.Output()
	if err != nil {
		t.Fatalf("hack/upstream/build.sh %s: %v\n%s", target, err, tail(stderr.String(), 20))
	}
	path := strings.TrimSpace(string(out))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("hack/upstream/build.sh %s printed %q: %v", target, path, err)
	}
	return path
}

// runKubeProxy runs upstream kube-proxy in the node's namespace until the
// (sub)test ends, then removes its rules with its own --cleanup. It
// leaves the machine's conntrack table size alone (--conntrack-max-per-core
// 0: that limit is not per namespace); everything else is its default.
func (s *sandbox) runKubeProxy(t *testing.T, kubeProxy, mode string) *lockedBuffer {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command("nsenter", "--net="+s.nodeNetns(), "--", kubeProxy,
		"--kubeconfig", s.kubeconfig(), "--hostname-override", s.name, "--proxy-mode", mode,
		"--cluster-cidr", "10.244.0.0/16", "--conntrack-max-per-core", "0", "--v", "2")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("kube-proxy (%s):\n%s", mode, tail(out.String(), 40))
		}
		cleanup := exec.Command("nsenter", "--net="+s.nodeNetns(), "--", kubeProxy, "--cleanup", "--proxy-mode", mode)
		if b, err := cleanup.CombinedOutput(); err != nil {
			t.Errorf("kube-proxy --cleanup: %v\n%s", err, tail(string(b), 10))
		}
	})
	return out
}

// checkKubeProxyRules looks for the Service in the rules kube-proxy wrote:
// its KUBE-SVC chain (iptables) or its service-ips element (nftables).
func (s *sandbox) checkKubeProxyRules(t *testing.T, mode, ip string) {
	t.Helper()
	args := []string{"iptables-save", "-t", "nat"}
	want := svcChain("default/hostnames:http", "tcp")
	if mode == "nftables" {
		args = []string{"nft", "list", "map", "ip", "kube-proxy", "service-ips"}
		want = ip + " . tcp . 80 : goto service-"
	}
	out, err := exec.Command("nsenter", append([]string{"--net=" + s.nodeNetns(), "--"}, args...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), want) {
		t.Errorf("%s in the node: want %q: %v\n%s", strings.Join(args, " "), want, err, tail(string(out), 20))
	}
}
