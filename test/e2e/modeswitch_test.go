package e2e

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/proxy/userspace"
)

// TestProxyModeSwitch edits the kube-proxy ConfigMap's mode while a pod
// sends a request through a ClusterIP every 50 ms: no request may fail,
// and each switch leaves no rule of the old mode behind. A ConfigMap that
// does not parse keeps the running mode.
func TestProxyModeSwitch(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, "--proxy-mode", "iptables")
	s.apply(t, hostnamesManifest)
	s.must(t, "run", "bb", "--image=busybox", "--restart=Never", "--", "sleep", "3600")
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
	for _, mode := range []string{"nftables", "userspace", "iptables"} {
		t.Logf("switching to %s at %s", mode, time.Now().Format("15:04:05.000"))
		s.switchMode(t, mode)
		t.Logf("switched to %s at %s", mode, time.Now().Format("15:04:05.000"))
		s.checkOnlyMode(t, mode)
		time.Sleep(time.Second) // requests through the new mode alone
	}
	s.setProxyConfig(t, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: nftables\nnotAField: 1\n")
	s.waitFor(t, 30*time.Second, "an InvalidConfiguration Event", func() (bool, string) {
		out, _ := s.kubectl("get", "events", "-n", "kube-system", "--field-selector", "reason=InvalidConfiguration", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, "notAField"), out
	})
	s.checkOnlyMode(t, "iptables")
	ok, failed := client.stop(t)
	t.Logf("%d requests answered, %d failed during the switches", ok, failed)
	if ok < 20 || failed > 0 {
		t.Errorf("%d requests answered, %d failed (want at least 20, none failed); failures:\n%s", ok, failed, client.failures())
	}
}

// proxyConfig returns the kube-proxy ConfigMap's config.conf.
func (s *sandbox) proxyConfig(t *testing.T) string {
	return s.must(t, "get", "cm", "kube-proxy", "-n", "kube-system", "-o", "jsonpath={.data.config\\.conf}")
}

func (s *sandbox) setProxyConfig(t *testing.T, conf string) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"data": map[string]string{"config.conf": conf}})
	if err != nil {
		t.Fatal(err)
	}
	s.must(t, "patch", "cm", "kube-proxy", "-n", "kube-system", "--type", "merge", "-p", string(patch))
}

// switchMode edits the ConfigMap's mode and waits for the proxy's Event
// saying the new mode programmed its rules.
func (s *sandbox) switchMode(t *testing.T, mode string) {
	t.Helper()
	conf := s.proxyConfig(t)
	var lines []string
	from := ""
	for _, line := range strings.Split(conf, "\n") {
		if m, ok := strings.CutPrefix(line, "mode: "); ok {
			from, line = m, "mode: "+mode
		}
		lines = append(lines, line)
	}
	if from == "" {
		t.Fatalf("no mode in the kube-proxy ConfigMap:\n%s", conf)
	}
	s.setProxyConfig(t, strings.Join(lines, "\n"))
	want := "proxy mode " + from + " -> " + mode
	s.waitFor(t, 60*time.Second, "the switch to "+mode, func() (bool, string) {
		out, _ := s.kubectl("get", "events", "-n", "kube-system", "--field-selector", "reason=ConfigurationApplied", "-o", "jsonpath={.items[*].message}")
		return strings.Contains(out, want), out
	})
}

// checkOnlyMode checks the node holds the rules of mode and none of the
// other modes: iptables chains, the nftables table, the userspace mode's
// interface (its Service addresses; the listeners go before it).
func (s *sandbox) checkOnlyMode(t *testing.T, mode string) {
	t.Helper()
	ipt := s.iptablesNAT(t)
	nft, _ := exec.Command("nsenter", "--net="+s.nodeNetns(), "nft", "list", "tables").CombinedOutput()
	us, _ := exec.Command("nsenter", "--net="+s.nodeNetns(), "ip", "-o", "addr", "show", "dev", userspace.DefaultInterface).CombinedOutput()
	hasIPT := strings.Contains(ipt, "KUBE-SERVICES") || strings.Contains(ipt, "KUBE-SVC-")
	hasNFT := strings.Contains(string(nft), "svcplane")
	hasUS := strings.Contains(string(us), " inet ")
	if hasIPT != (mode == "iptables") || hasNFT != (mode == "nftables") || hasUS != (mode == "userspace") {
		t.Errorf("in %s mode: iptables rules %v, nftables table %v, userspace addresses %v\n%s\n%s\n%s", mode, hasIPT, hasNFT, hasUS, ipt, nft, us)
	}
}

// iptablesNAT is the nat table of both iptables backends.
func (s *sandbox) iptablesNAT(t *testing.T) string {
	var out []byte
	for _, save := range []string{"iptables-nft-save", "iptables-legacy-save"} {
		got, err := exec.Command("nsenter", "--net="+s.nodeNetns(), save, "-t", "nat").CombinedOutput()
		if err != nil && !bytes.Contains(got, []byte("does not exist")) {
			t.Fatalf("%s: %v\n%s", save, err, got)
		}
		out = append(out, got...)
	}
	return string(out)
}

// requestLoop sends a request from pod every 50 ms until stopped.
type requestLoop struct {
	cmd *exec.Cmd
	out bytes.Buffer
	s   *sandbox
	pod string
}

func (s *sandbox) requestLoop(t *testing.T, pod, url string) *requestLoop {
	t.Helper()
	script := `rm -f /tmp/stop; while [ ! -f /tmp/stop ]; do
  if out=$(wget -qO- -T 2 ` + url + ` 2>&1); then echo ok; else echo "FAIL at $(date +%T.%N): $out"; fi
  sleep 0.05
done; echo DONE`
	l := &requestLoop{s: s, pod: pod}
	l.cmd = exec.Command("kubectl", "--kubeconfig", s.kubeconfig(), "exec", pod, "--", "sh", "-c", script)
	l.cmd.Stdout, l.cmd.Stderr = &l.out, &l.out
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.cmd.Process.Kill(); _ = l.cmd.Wait() })
	return l
}

// failures are the loop's failed requests, each with its time and
// wget's error.
func (l *requestLoop) failures() string {
	var out []string
	for _, line := range strings.Split(l.out.String(), "\n") {
		if strings.HasPrefix(line, "FAIL") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// stop ends the loop and counts its answered and failed requests.
func (l *requestLoop) stop(t *testing.T) (ok, failed int) {
	t.Helper()
	l.s.must(t, "exec", l.pod, "--", "touch", "/tmp/stop")
	done := make(chan error, 1)
	go func() { done <- l.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("request loop: %v\n%s", err, tail(l.out.String(), 20))
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("request loop did not end\n%s", tail(l.out.String(), 20))
	}
	out := l.out.String()
	return strings.Count(out, "ok"), strings.Count(out, "FAIL")
}
