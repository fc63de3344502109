package e2e

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestKubeSystem is issue 14's kube-system e2e, on a cluster that runs
// the proxy and DNS as pods (kubeadm's addons): the pods kubectl lists,
// deleting the proxy pod while a client's requests through a ClusterIP
// keep succeeding, the DNS and mirror pods' logs, the tutorials' mode
// switch (edit the ConfigMap, delete the pod), and a coredns rollout that
// cannot be scheduled while DNS answers from the other replica.
func TestKubeSystem(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, "--no-addons=false", "--proxy-mode", "iptables")
	s.waitSystemPods(t)
	s.apply(t, hostnamesManifest)
	s.must(t, "run", "bb", "--image=busybox:1.28", "--restart=Never", "--", "sleep", "3600")
	s.waitRunningReady(t, "bb")
	s.waitFor(t, 60*time.Second, "3 hostnames pods Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "deploy", "hostnames", "-o", "jsonpath={.status.readyReplicas}")
		return out == "3", out
	})
	ip := s.clusterIP(t, "hostnames")
	s.waitFor(t, 20*time.Second, "the ClusterIP answering", func() (bool, string) {
		got, err := s.fetch("bb", "http://"+ip+"/")
		return err == nil && got != "", got
	})
	client := s.requestLoop(t, "bb", "http://"+ip+"/")
	t.Run("delete the proxy pod", func(t *testing.T) { s.restartProxyPod(t) })
	t.Run("logs", func(t *testing.T) { s.checkSystemLogs(t) })
	t.Run("mode switch by ConfigMap and pod delete", func(t *testing.T) {
		s.setProxyConfig(t, strings.Replace(s.proxyConfig(t), "mode: iptables", "mode: nftables", 1))
		s.restartProxyPod(t)
		s.waitFor(t, 30*time.Second, "nftables rules and no iptables ones", func() (bool, string) {
			nft, _ := exec.Command("nsenter", "--net="+s.nodeNetns(), "nft", "list", "tables").CombinedOutput()
			ipt := s.iptablesNAT(t)
			return strings.Contains(string(nft), "table ip svcplane") && !strings.Contains(ipt, "KUBE-SERVICES"), string(nft) + ipt
		})
		time.Sleep(time.Second) // requests through the new mode alone
	})
	ok, failed := client.stop(t)
	t.Logf("%d requests answered, %d failed while the proxy pod was replaced", ok, failed)
	if ok < 20 || failed > 0 {
		t.Errorf("%d requests answered, %d failed (want at least 20, none failed)", ok, failed)
	}
	t.Run("coredns that cannot be scheduled", func(t *testing.T) { s.checkCorednsPending(t) })
}

// systemPods matches `kubectl get pods -n kube-system -o wide` of a
// one-node cluster named node: its columns NAME READY STATUS.
func systemPods(node string) []*regexp.Regexp {
	var res []*regexp.Regexp
	for _, name := range []string{`kube-proxy-[a-z0-9]{5}`, `coredns-[a-z0-9]{8,10}-[a-z0-9]{5}`, `coredns-[a-z0-9]{8,10}-[a-z0-9]{5}`,
		"etcd-" + node, "kube-apiserver-" + node, "kube-controller-manager-" + node, "kube-scheduler-" + node} {
		res = append(res, regexp.MustCompile(`(?m)^`+name+`\s+1/1\s+Running\s+\d+`))
	}
	return res
}

// waitSystemPods waits until kube-system lists the proxy, two coredns
// pods and the control plane's mirror pods, each Running and Ready.
func (s *sandbox) waitSystemPods(t *testing.T) {
	t.Helper()
	s.waitFor(t, 60*time.Second, "kube-system pods Running", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-n", "kube-system", "-o", "wide")
		for _, re := range systemPods(s.name) {
			if n := len(re.FindAllString(out, -1)); n == 0 || (strings.Contains(re.String(), "coredns") && n != 2) {
				return false, out
			}
		}
		return true, out
	})
}

// restartProxyPod deletes the kube-proxy pod the tutorials' way and
// waits until the DaemonSet's new pod is Ready.
func (s *sandbox) restartProxyPod(t *testing.T) {
	t.Helper()
	old := s.must(t, "get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o", "jsonpath={.items[*].metadata.name}")
	s.must(t, "delete", "pod", "-l", "k8s-app=kube-proxy", "-n", "kube-system")
	s.waitFor(t, 60*time.Second, "a new kube-proxy pod Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-proxy", "-o",
			`jsonpath={range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		out = strings.TrimSpace(out)
		name, ready, _ := strings.Cut(out, " ")
		return name != old && !strings.Contains(out, "\n") && ready == "True", out
	})
}

// checkSystemLogs: the coredns pods' log is the DNS server's, each mirror
// pod's its component's.
func (s *sandbox) checkSystemLogs(t *testing.T) {
	out := s.must(t, "logs", "-n", "kube-system", "-l", "k8s-app=kube-dns")
	if strings.Count(out, "dns server started") != 2 {
		t.Errorf("kubectl logs -l k8s-app=kube-dns: want the DNS server's start from each pod:\n%s", out)
	}
	for comp, want := range map[string]string{"etcd": "component=etcd", "kube-apiserver": "Serving securely on",
		"kube-controller-manager": "component=controllers", "kube-scheduler": "scheduler"} {
		out := s.must(t, "logs", "-n", "kube-system", comp+"-"+s.name)
		if !strings.Contains(out, want) {
			t.Errorf("kubectl logs %s-%s: want %q:\n%s", comp, s.name, want, tail(out, 10))
		}
	}
}

// checkCorednsPending patches coredns with a nodeSelector no node
// matches: the rollout's new pod stays Pending with the scheduler's
// FailedScheduling text, and DNS answers from the old replica left.
func (s *sandbox) checkCorednsPending(t *testing.T) {
	s.must(t, "patch", "deploy", "coredns", "-n", "kube-system", "-p", `{"spec":{"template":{"spec":{"nodeSelector":{"no-such-label":"x"}}}}}`)
	// The rollout may surge to 2 new pods (maxSurge 25% of 2 rounds up,
	// maxUnavailable 1), both Pending, while one old pod runs.
	var pending string
	s.waitFor(t, 60*time.Second, "a coredns pod Pending", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "--field-selector", "status.phase=Pending", "-o", "jsonpath={.items[*].metadata.name}")
		pending, _, _ = strings.Cut(out, " ")
		return pending != "", out
	})
	want := "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. " +
		"preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	s.waitFor(t, 30*time.Second, "FailedScheduling in describe", func() (bool, string) {
		out, _ := s.kubectl("describe", "pod", "-n", "kube-system", pending)
		return strings.Contains(out, "FailedScheduling") && strings.Contains(out, want), out
	})
	s.waitFor(t, 30*time.Second, "one coredns replica left Running", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "--field-selector", "status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
		return out != "" && !strings.Contains(out, " "), out
	})
	apiIP := s.clusterIP(t, "kubernetes")
	for i := range 5 {
		out, err := s.kubectl("exec", "bb", "--", "nslookup", "kubernetes.default")
		if err != nil || !strings.Contains(out, fmt.Sprintf("Address 1: %s kubernetes.default.svc.cluster.local", apiIP)) {
			t.Errorf("nslookup kubernetes.default (try %d): %v\n%s", i, err, out)
		}
	}
}
