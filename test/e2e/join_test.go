package e2e

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
)

// checkJoin makes a "machine" (a namespace on the fabric at 10.240.0.5)
// and runs there the join command `svcplane token create` prints: the
// node finds the cluster through cluster-info and the CA pin, gets its
// certificate from an auto-approved CSR, turns Ready, and a pod on it is
// reached from a pod on the first node, directly and through a
// ClusterIP, over the VXLAN overlay only (checkOverlay).
func (s *sandbox) checkJoin(t *testing.T) {
	path := s.fabricNamespace(t, "join", netip.MustParsePrefix("10.240.0.5/24"))
	out, err := exec.Command(binary, "token", "create", "--data-dir", s.dataDir).CombinedOutput()
	line := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(line, "svcplane join https://10.240.0.2:") {
		t.Fatalf("token create: %v %q", err, line)
	}
	node := s.name + "-j"
	args := append([]string{"--net=" + path, "--", binary}, strings.Fields(line)[1:]...)
	dataDir := t.TempDir()
	args = append(args, "--node-name", node, "--node-ip", "10.240.0.5", "--data-dir", dataDir, "--cluster-name", s.name)
	cmd := exec.Command("nsenter", args...)
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		// Its pods (a DaemonSet's too) go before the node stops, so none
		// keeps a mount under the test's directory: a NoExecute taint
		// evicts them and keeps the DaemonSet off the node.
		_, _ = s.kubectl("taint", "node", node, "e2e/leaving=now:NoExecute")
		for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
			out, err := s.kubectl("get", "pods", "-A", "--field-selector", "spec.nodeName="+node, "-o", "name")
			if err == nil && strings.TrimSpace(out) == "" {
				break
			}
		}
		s.checkJoinedDown(t, path, dataDir, node, done)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Errorf("svcplane join still runs after svcplane down")
			_ = cmd.Process.Kill()
			<-done
		}
		s.checkOverlayGone(t, path, node)
		if t.Failed() {
			t.Logf("join output:\n%s", log.String())
		}
	})
	s.waitFor(t, 90*time.Second, "joined node Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "node", node, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "True", out
	})
	csr := s.must(t, "get", "csr", "-o", `jsonpath={range .items[*]}{.spec.username} {.status.conditions[0].reason} {.spec.signerName}{"\n"}{end}`)
	if !strings.Contains(csr, "system:bootstrap:") || !strings.Contains(csr, " AutoApproved kubernetes.io/kube-apiserver-client-kubelet") {
		t.Errorf("CSRs:\n%s", csr)
	}
	s.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: jn, labels: {app: jn}}
spec:
  nodeName: `+node+`
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: [serve-hostname, --http, --port, "9376"]
    readinessProbe: {httpGet: {port: 9376}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: jn}
spec:
  selector: {app: jn}
  ports: [{port: 80, targetPort: 9376}]
`)
	defer func() { _, _ = s.kubectl("delete", "pod", "jn", "--wait=true", "--timeout=30s") }()
	s.waitFor(t, 60*time.Second, "jn Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pod", "jn", "-o", `jsonpath={.status.containerStatuses[0].ready}`)
		return out == "true", out
	})
	s.checkServingCert(t, node)
	s.checkOverlay(t, path, node)
	s.checkPodMTU(t)
}

// checkServingCert: the joined agent's serving certificate came from a
// kubelet-serving CSR the approver approved (its SANs are the node's
// addresses) and the API server verifies it with the cluster CA, so
// kubectl logs and exec reach the pod on the joined node.
func (s *sandbox) checkServingCert(t *testing.T, node string) {
	s.waitFor(t, 30*time.Second, "kubectl logs and exec of jn on the joined node", func() (bool, string) {
		if out, err := s.kubectl("logs", "jn"); err != nil {
			return false, "logs: " + out
		}
		out, err := s.kubectl("exec", "jn", "--", "/agnhost", "dns-server-list")
		return err == nil && strings.TrimSpace(out) != "", "exec: " + out
	})
	csr := s.must(t, "get", "csr", "-o", `jsonpath={range .items[*]}{.spec.username} {.status.conditions[0].reason} {.spec.signerName}{"\n"}{end}`)
	if !strings.Contains(csr, "system:node:"+node+" AutoApproved kubernetes.io/kubelet-serving") {
		t.Errorf("no approved serving CSR of %s:\n%s", node, csr)
	}
}

// checkOverlay: no route joins the first node's and the joined node's
// pod CIDRs; a pod on the first node reaches jn by its IP and through
// its ClusterIP, and the joined node's VXLAN device counts the
// encapsulated packets; with them dropped jn is out of reach.
func (s *sandbox) checkOverlay(t *testing.T, joined, node string) {
	first := netns.NewDir("").Path(netns.Names{Cluster: s.name}.Node(s.name))
	cidr := s.must(t, "get", "node", node, "-o", "jsonpath={.spec.podCIDR}")
	vtep := strings.TrimSuffix(cidr, "/24") // the network address, as the node's VTEP
	s.waitFor(t, 30*time.Second, "the first node's overlay route to "+cidr, func() (bool, string) {
		out, _ := exec.Command("nsenter", "--net="+first, "ip", "route", "show", cidr).CombinedOutput()
		return strings.Contains(string(out), "via "+vtep+" dev svcplane.1 onlink"), string(out)
	})
	// Up's own nodes keep host-gw routes to each other; between them and
	// the joined machine no route crosses the underlay.
	toJoined, _ := exec.Command("nsenter", "--net="+first, "ip", "route", "show", cidr, "dev", "eth0").CombinedOutput()
	fromJoined, _ := exec.Command("nsenter", "--net="+joined, "ip", "route", "show", "dev", "eth0").CombinedOutput()
	if strings.TrimSpace(string(toJoined)) != "" || strings.Contains(string(fromJoined), "10.244.") {
		t.Fatalf("a pod route on the underlay: first node to %s: %q; joined node:\n%s", cidr, toJoined, fromJoined)
	}
	ip := s.must(t, "get", "pod", "jn", "-o", "jsonpath={.status.podIP}")
	before, err := netns.ReadLinkStats(joined, "svcplane.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range []string{"http://" + ip + ":9376", "http://jn.default.svc.cluster.local"} {
		s.waitFor(t, 30*time.Second, "jn at "+url+" from the first node", func() (bool, string) {
			out, err := s.kubectl("exec", "cl", "--", "wget", "-qO-", "-T", "2", url)
			return err == nil && strings.TrimSpace(out) == "jn", out
		})
	}
	after, err := netns.ReadLinkStats(joined, "svcplane.1")
	if err != nil || after.RxPackets < before.RxPackets+6 || after.TxPackets < before.TxPackets+6 {
		t.Errorf("the joined node's svcplane.1 counters: %+v then %+v, %v", before, after, err)
	}
	t.Logf("svcplane.1 on the joined node: rx %d tx %d packets for two requests", after.RxPackets-before.RxPackets, after.TxPackets-before.TxPackets)
	// Without the overlay's packets (UDP 8472 dropped on the joined
	// machine) no other path carries the request.
	drop := []string{"INPUT", "-p", "udp", "--dport", "8472", "-j", "DROP"}
	mustIn(t, joined, append([]string{"iptables", "-I"}, drop...)...)
	out, err := s.kubectl("exec", "cl", "--", "wget", "-qO-", "-T", "2", "http://"+ip+":9376")
	mustIn(t, joined, append([]string{"iptables", "-D"}, drop...)...)
	if err == nil {
		t.Errorf("jn answered with the overlay's packets dropped: %q", out)
	}
}

// checkOverlayGone: once the joined node stopped its VXLAN device is
// gone, and once its Node is deleted the first node keeps no route to
// its pod CIDR.
func (s *sandbox) checkOverlayGone(t *testing.T, joined, node string) {
	if _, err := netns.ReadLinkStats(joined, "svcplane.1"); err == nil {
		t.Errorf("svcplane.1 left on the joined node after it stopped")
	}
	cidr, _ := s.kubectl("get", "node", node, "-o", "jsonpath={.spec.podCIDR}")
	if _, err := s.kubectl("delete", "node", node); err != nil || cidr == "" {
		t.Errorf("delete node %s (pod CIDR %q): %v", node, cidr, err)
		return
	}
	first := netns.NewDir("").Path(netns.Names{Cluster: s.name}.Node(s.name))
	s.waitFor(t, 30*time.Second, "the first node's overlay entries for "+node+" removed", func() (bool, string) {
		out, _ := exec.Command("nsenter", "--net="+first, "ip", "route", "show", "dev", "svcplane.1").CombinedOutput()
		return !strings.Contains(string(out), cidr), string(out)
	})
}

// checkJoinedDown runs `svcplane down --data-dir` of the joined node on
// its machine while it runs (kubeadm reset's role): it stops the join,
// and the node's pids cgroups (svcplane-<cluster>-<node>), bridge, proxy
// rules and state are gone after it.
func (s *sandbox) checkJoinedDown(t *testing.T, joined, dataDir, node string, done <-chan struct{}) {
	pattern := "/sys/fs/cgroup/*/svcplane-" + s.name + "-" + node
	before, _ := filepath.Glob(pattern)
	out, err := exec.Command("nsenter", "--net="+joined, binary, "down", "--data-dir", dataDir).CombinedOutput()
	if err != nil {
		t.Errorf("svcplane down of the joined node: %v\n%s", err, out)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Errorf("svcplane down returned while the join still runs:\n%s", out)
	}
	after, _ := filepath.Glob(pattern)
	t.Logf("the joined node's cgroups: %d before down, %d after", len(before), len(after))
	if len(before) == 0 || len(after) > 0 {
		t.Errorf("cgroups %s: before down %v, after %v", pattern, before, after)
	}
	links, _ := exec.Command("nsenter", "--net="+joined, "ip", "-o", "link").CombinedOutput()
	rules, _ := exec.Command("nsenter", "--net="+joined, "iptables-save").CombinedOutput()
	var state []string
	for _, d := range []string{"agents", "join"} {
		if _, err := os.Stat(filepath.Join(dataDir, d)); err == nil {
			state = append(state, d)
		}
	}
	if strings.Contains(string(links), "spbr0") || strings.Contains(string(rules), "KUBE-SERVICES") || len(state) > 0 {
		t.Errorf("left after down: links\n%s\nrules\n%s\nstate %v", links, rules, state)
	}
}

func mustIn(t *testing.T, ns string, args ...string) {
	t.Helper()
	if out, err := exec.Command("nsenter", append([]string{"--net=" + ns}, args...)...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
