package e2e

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAgentRunsPodsInSandbox is issue 6's acceptance run: a sandboxed
// cluster runs nginx pods on real pod IPs, a busybox pod reaches them,
// exec, readiness probes, bad input, graceful deletion, and an agent
// restart that leaves pods alone.
func TestAgentRunsPodsInSandbox(t *testing.T) {
	s := startSandbox(t)
	web := s.webPods(t)
	t.Run("busybox reaches every nginx pod", func(t *testing.T) { s.checkWget(t, web) })
	t.Run("exec runs in the pod", func(t *testing.T) {
		if out := strings.TrimSpace(s.must(t, "exec", web[0].name, "--", "hostname")); out != web[0].name {
			t.Fatalf("hostname in %s: %q", web[0].name, out)
		}
	})
	t.Run("logs", func(t *testing.T) {
		if out := s.must(t, "logs", "bb", "--tail=1"); !strings.Contains(out, "bb started") {
			t.Fatalf("logs of bb: %q", out)
		}
	})
	t.Run("run -i --rm and logs -f", func(t *testing.T) { s.checkRunAndFollow(t) })
	t.Run("readiness probe drives Ready", func(t *testing.T) { s.checkReadiness(t) })
	t.Run("bad input is reported", func(t *testing.T) { s.checkBadInput(t) })
	t.Run("delete is graceful", func(t *testing.T) { s.checkGracefulDelete(t) })
	before := s.processes(t, web)
	s.restart(t) // in the test's own scope: the new process lives until the test ends
	t.Run("restart keeps pods and IPs", func(t *testing.T) { s.checkRestart(t, web, before) })
	t.Run("a deleted replica comes back with a new IP", func(t *testing.T) { s.checkReplaced(t, web) })
}

// webPod is one nginx pod.
type webPod struct {
	name string
	ip   string
}

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx
        ports: [{containerPort: 80}]
        readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
`

// webPods runs 3 nginx pods: through a Deployment when the ReplicaSet
// controller and the scheduler are there, else created on the node
// directly. It returns them once all are Running and Ready (Ready once
// they serve: under the race detector on a loaded machine nginx starts
// seconds after its container).
func (s *sandbox) webPods(t *testing.T) []webPod {
	s.apply(t, webDeployment)
	deadline := time.Now().Add(20 * time.Second)
	for len(s.webNames()) < 3 && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
	}
	if len(s.webNames()) < 3 {
		t.Log("no ReplicaSet controller or scheduler yet: creating the 3 nginx pods on the node directly")
		s.must(t, "delete", "deployment", "web", "--cascade=foreground")
		for i := 1; i <= 3; i++ {
			s.apply(t, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: web-%d, labels: {app: web}}\nspec:\n  nodeName: %s\n  containers:\n  - {name: nginx, image: nginx, ports: [{containerPort: 80}], readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}}\n", i, s.name))
		}
	}
	return s.readyWebPods(t)
}

func (s *sandbox) webNames() []string {
	out, _ := s.kubectl("get", "pods", "-l", "app=web", "-o", `jsonpath={range .items[?(!@.metadata.deletionTimestamp)]}{.metadata.name}{"\n"}{end}`)
	return strings.Fields(out)
}

// readyWebPods waits for 3 Running, Ready web pods with distinct IPs in
// one /24 of 10.244.0.0/16, as `kubectl get pods -o wide` shows them.
func (s *sandbox) readyWebPods(t *testing.T) []webPod {
	t.Helper()
	var pods []webPod
	s.waitFor(t, 60*time.Second, "3 web pods Running and Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-l", "app=web", "-o", "wide", "--no-headers")
		pods = parseWide(out)
		return len(pods) == 3, out
	})
	var ips []string
	for _, p := range pods {
		ip := netip.MustParseAddr(p.ip)
		if !netip.MustParsePrefix("10.244.0.0/16").Contains(ip) || netip.PrefixFrom(ip, 24).Masked() != netip.PrefixFrom(netip.MustParseAddr(pods[0].ip), 24).Masked() {
			t.Fatalf("pod %s has IP %s, not in the node's /24 of 10.244.0.0/16", p.name, p.ip)
		}
		ips = append(ips, p.ip)
	}
	slices.Sort(ips)
	if len(slices.Compact(ips)) != 3 {
		t.Fatalf("pod IPs not distinct: %v", ips)
	}
	return pods
}

// parseWide reads Running 1/1 pods from `kubectl get pods -o wide`.
func parseWide(out string) []webPod {
	var pods []webPod
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) >= 6 && f[1] == "1/1" && f[2] == "Running" {
			pods = append(pods, webPod{name: f[0], ip: f[5]})
		}
	}
	return pods
}

func (s *sandbox) checkWget(t *testing.T, web []webPod) {
	s.must(t, "run", "bb", "--image=busybox", "--restart=Never", "--overrides", fmt.Sprintf(`{"spec":{"nodeName":%q}}`, s.name),
		"--", "sh", "-c", "echo bb started; sleep 3600")
	s.waitRunningReady(t, "bb")
	for _, p := range web {
		out, err := s.kubectl("exec", "bb", "--", "wget", "-qO-", p.ip)
		if err != nil || !strings.Contains(out, "Welcome to nginx!") {
			t.Errorf("wget %s (%s) from bb: %v\n%s", p.ip, p.name, err, out)
		}
	}
	s.checkAPIFromPod(t)
}

// checkAPIFromPod reaches the API server from a pod at the address the
// kubernetes Service's endpoints list (the node's, in a sandbox).
func (s *sandbox) checkAPIFromPod(t *testing.T) {
	addr, err := s.kubectl("get", "ep", "kubernetes", "-o", "jsonpath={.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}")
	if err != nil || strings.HasPrefix(addr, "127.") {
		t.Fatalf("kubernetes endpoints: %v %q", err, addr)
	}
	out, err := s.kubectl("exec", "bb", "--", "wget", "-qO-", "--no-check-certificate", "https://"+addr+"/version")
	if err != nil || !strings.Contains(out, `"minor":"32"`) {
		t.Errorf("API at %s from bb: %v\n%s", addr, err, out)
	}
}

func (s *sandbox) checkReadiness(t *testing.T) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  nodeName: %s
  containers:
  - name: c
    image: busybox
    command: ["sleep", "3600"]
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
`, s.name))
	s.waitFor(t, 60*time.Second, "probed Running", func() (bool, string) {
		out := s.podField("probed", "{.status.phase}")
		return out == "Running", out
	})
	time.Sleep(3 * time.Second)
	if got := s.podField("probed", `{.status.conditions[?(@.type=="Ready")].status}`); got != "False" {
		t.Fatalf("probed is Ready (%q) while its probe fails", got)
	}
	s.must(t, "exec", "probed", "--", "touch", "/tmp/ready")
	s.waitRunningReady(t, "probed")
}

func (s *sandbox) checkBadInput(t *testing.T) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: noimage}
spec:
  nodeName: %[1]s
  containers: [{name: c, image: example.com/not-built-in:1.0}]
---
apiVersion: v1
kind: Pod
metadata: {name: badcmd}
spec:
  nodeName: %[1]s
  containers: [{name: c, image: busybox, command: ["/no/such/program"]}]
`, s.name))
	s.waitFor(t, 30*time.Second, "noimage waiting with ErrImagePull", func() (bool, string) {
		out := s.podField("noimage", "{.status.containerStatuses[0].state.waiting.reason}: {.status.containerStatuses[0].state.waiting.message}")
		return strings.HasPrefix(out, "ErrImagePull: ") && strings.Contains(out, "svcplane images import"), out
	})
	s.waitFor(t, 30*time.Second, "badcmd failing with StartError", func() (bool, string) {
		out := s.podField("badcmd", "{.status.containerStatuses[0].state.terminated.reason}{.status.containerStatuses[0].lastState.terminated.reason}")
		return strings.Contains(out, "StartError"), out
	})
	if out := s.must(t, "get", "events", "--field-selector", "involvedObject.name=noimage"); !strings.Contains(out, "svcplane images import FILE") {
		t.Errorf("no event for noimage:\n%s", out)
	}
	s.must(t, "delete", "pod", "noimage", "badcmd", "--wait=false")
}

func (s *sandbox) checkGracefulDelete(t *testing.T) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: term}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 30
  containers:
  - name: c
    image: busybox
    command: ["sh", "-c", "trap 'echo got SIGTERM; sleep 3; exit 0' TERM; while true; do sleep 1; done"]
`, s.name))
	s.waitRunningReady(t, "term")
	s.must(t, "delete", "pod", "term", "--wait=false")
	if out := s.must(t, "get", "pod", "term", "--no-headers"); !strings.Contains(out, "Terminating") {
		t.Errorf("pod not shown Terminating while it stops: %q", out)
	}
	// The shell is pid 1 of its container: it gets SIGTERM because it
	// traps it, and says so in its log while the pod terminates.
	s.waitFor(t, 10*time.Second, "term's log shows SIGTERM", func() (bool, string) {
		out, _ := s.kubectl("logs", "term")
		return strings.Contains(out, "got SIGTERM"), out
	})
	s.waitFor(t, 20*time.Second, "term deleted", func() (bool, string) {
		out, err := s.kubectl("get", "pod", "term")
		return err != nil && strings.Contains(out, "NotFound"), out
	})
}

// processes returns the processes in each pod's namespace.
func (s *sandbox) processes(t *testing.T, web []webPod) map[string][]int {
	out := map[string][]int{}
	for _, p := range web {
		out[p.name] = s.podNetnsProcesses(t, p.name)
		if len(out[p.name]) == 0 {
			t.Fatalf("no process in %s's namespace", p.name)
		}
	}
	return out
}

func (s *sandbox) checkRestart(t *testing.T, web []webPod, before map[string][]int) {
	after := s.readyWebPods(t)
	for _, p := range after {
		i := slices.IndexFunc(web, func(w webPod) bool { return w.name == p.name })
		if i < 0 || web[i].ip != p.ip {
			t.Errorf("after restart pod %s has IP %s; before: %v", p.name, p.ip, web)
		}
		if got := s.podNetnsProcesses(t, p.name); !slices.Equal(got, before[p.name]) {
			t.Errorf("pod %s processes changed across the restart: %v -> %v", p.name, before[p.name], got)
		}
	}
}

// checkReplaced deletes one nginx pod of the Deployment and waits for
// its replacement, on a new IP.
func (s *sandbox) checkReplaced(t *testing.T, web []webPod) {
	if out, err := s.kubectl("get", "deployment", "web"); err != nil {
		t.Skipf("no Deployment (controllers not there yet): %s", out)
	}
	s.must(t, "delete", "pod", web[0].name)
	now := s.readyWebPods(t)
	for _, p := range now {
		if p.name == web[0].name || p.ip == web[0].ip {
			t.Fatalf("deleted pod %s (%s) still there or its IP reused: %v", web[0].name, web[0].ip, now)
		}
	}
}

// checkRunAndFollow runs a pod the way `kubectl run -i --rm` does (attach,
// then delete) and follows a pod's logs until its container exits.
func (s *sandbox) checkRunAndFollow(t *testing.T) {
	node := fmt.Sprintf(`{"spec":{"nodeName":%q}}`, s.name)
	out := s.must(t, "run", "once", "-i", "--rm", "--restart=Never", "--image=busybox", "--overrides", node,
		"--", "sh", "-c", "sleep 1; echo hello from run")
	if !strings.Contains(out, "hello from run") {
		t.Fatalf("run -i --rm: %q", out)
	}
	s.must(t, "run", "counter", "--restart=Never", "--image=busybox", "--overrides", node,
		"--", "sh", "-c", "for i in 1 2 3 4 5; do echo line $i; sleep 1; done")
	s.waitRunningReady(t, "counter")
	if out := s.must(t, "logs", "-f", "counter"); !strings.Contains(out, "line 5") {
		t.Fatalf("logs -f: %q", out)
	}
}
