package e2e

import (
	"fmt"
	"net/netip"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
)

// TestMultiNode runs `up --sandbox --nodes 3`: every node Ready at its
// address; a Deployment spread over the nodes by a topology spread
// constraint; a pod on the first node reaches pods on every node through
// the ClusterIP; a client namespace outside the cluster, on the fabric,
// reaches a NodePort at every node's address; externalTrafficPolicy Local
// answers only where the endpoint is, with the client's own address.
func TestMultiNode(t *testing.T) {
	t.Parallel()
	s := startSandbox(t, "--nodes", "3", "--node-monitor-grace-period", "8s", "--node-lease-duration-seconds", "8", "--default-unreachable-toleration-seconds", "5")
	nodes := []string{s.name, s.name + "-m02", s.name + "-m03"}
	ips := []string{"10.240.0.2", "10.240.0.3", "10.240.0.4"}
	s.waitFor(t, 60*time.Second, "3 nodes Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "nodes", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.addresses[0].address} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}`)
		var want []string
		for i, n := range nodes {
			want = append(want, n+" "+ips[i]+" True")
		}
		return strings.TrimSpace(out) == strings.Join(want, "\n"), out
	})
	s.apply(t, multiNodeManifest(nodes))
	s.waitFor(t, 90*time.Second, "pods Running and Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.containerStatuses[0].ready}{"\n"}{end}`)
		return strings.Count(out, " true") == 5, out
	})
	t.Run("spread over the nodes", func(t *testing.T) {
		out := s.must(t, "get", "pods", "-l", "app=hn", "-o", `jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}`)
		got := strings.Fields(out)
		slices.Sort(got)
		if !slices.Equal(got, nodes) {
			t.Errorf("hn pods on %v, want one on each of %v", got, nodes)
		}
	})
	t.Run("ClusterIP reaches pods on every node", func(t *testing.T) {
		seen := map[string]bool{}
		for i := 0; i < 60 && len(seen) < 3; i++ {
			out, err := s.kubectl("exec", "cl", "--", "wget", "-qO-", "-T", "2", "http://hn.default.svc.cluster.local")
			if err == nil {
				seen[strings.TrimSpace(out)] = true
			}
		}
		if len(seen) < 3 {
			t.Errorf("answers from %v, want 3 pods", seen)
		}
	})
	client := s.fabricClient(t, netip.MustParsePrefix("10.240.0.250/24"))
	t.Run("NodePort on every node", func(t *testing.T) {
		port := s.must(t, "get", "svc", "hnp", "-o", "jsonpath={.spec.ports[0].nodePort}")
		for _, ip := range ips {
			if out, err := curlIn(client, fmt.Sprintf("http://%s:%s/", ip, port)); err != nil || !strings.HasPrefix(out, "hn-") {
				t.Errorf("NodePort at %s: %v %q", ip, err, out)
			}
		}
	})
	t.Run("externalTrafficPolicy Local", func(t *testing.T) {
		port := s.must(t, "get", "svc", "loc", "-o", "jsonpath={.spec.ports[0].nodePort}")
		out, err := curlIn(client, fmt.Sprintf("http://%s:%s/clientip", ips[1], port))
		if err != nil || !strings.HasPrefix(out, "10.240.0.250:") {
			t.Errorf("on the endpoint's node: %v %q, want the client's address", err, out)
		}
		if out, err := curlIn(client, fmt.Sprintf("http://%s:%s/clientip", ips[2], port)); err == nil {
			t.Errorf("a node without a local endpoint answered: %q", out)
		}
	})
	t.Run("a DaemonSet lands one pod per node", func(t *testing.T) { s.checkDaemonSet(t, nodes) })
	t.Run("a node joins with a bootstrap token", func(t *testing.T) { s.checkJoin(t) })
	t.Run("a lost node's pods move", func(t *testing.T) { s.checkNodeLoss(t, nodes) })
}

// checkDaemonSet runs a DaemonSet of pause pods: one Ready pod on each
// node (one more pod on every node keeps the nodes' order by pod count,
// which checkNodeLoss relies on).
func (s *sandbox) checkDaemonSet(t *testing.T, nodes []string) {
	s.apply(t, `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: ds}
spec:
  selector: {matchLabels: {app: ds}}
  template:
    metadata: {labels: {app: ds}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: registry.k8s.io/pause:3.10}]
`)
	s.waitFor(t, 60*time.Second, "3 ds pods Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "ds", "ds", "-o", "jsonpath={.status.desiredNumberScheduled} {.status.numberReady}")
		return out == "3 3", out
	})
	got := strings.Fields(s.podsOn(t, "app=ds"))
	slices.Sort(got)
	if !slices.Equal(got, nodes) {
		t.Errorf("ds pods on %v, want one on each of %v", got, nodes)
	}
}

// checkNodeLoss freezes a node's agent: the node turns Unknown, and its
// pod, which tolerates unreachable for 5 s (the flag given to up), is
// evicted and made again on another node.
func (s *sandbox) checkNodeLoss(t *testing.T, nodes []string) {
	// Made now, it goes to the node with the fewest pods: the third.
	node := nodes[2]
	s.apply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: mv}
spec:
  replicas: 1
  selector: {matchLabels: {app: mv}}
  template:
    metadata: {labels: {app: mv}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [%[1]s, %[2]s]}]
      containers:
      - name: c
        image: busybox
        command: [sleep, "3600"]
`, nodes[1], nodes[2]))
	s.waitFor(t, 60*time.Second, "mv Ready", func() (bool, string) {
		out, _ := s.kubectl("get", "pods", "-l", "app=mv", "-o", `jsonpath={.items[*].status.containerStatuses[0].ready}`)
		return out == "true", out
	})
	if got := s.podsOn(t, "app=mv"); got != node {
		t.Fatalf("mv runs on %q, want %s", got, node)
	}
	out, err := exec.Command("pgrep", "-f", "agent .*--node-name "+node+" ").CombinedOutput()
	pids := strings.Fields(string(out))
	if err != nil || len(pids) == 0 {
		t.Fatalf("the agent of %s: %v %s", node, err, out)
	}
	signal := func(sig string) {
		for _, pid := range pids {
			_ = exec.Command("kill", "-"+sig, pid).Run()
		}
	}
	signal("STOP")
	t.Cleanup(func() { signal("CONT") })
	s.waitFor(t, 60*time.Second, "node "+node+" Unknown", func() (bool, string) {
		out, _ := s.kubectl("get", "node", node, "-o", `jsonpath={.status.conditions[?(@.type=="Ready")].status}`)
		return out == "Unknown", out
	})
	s.waitFor(t, 60*time.Second, "mv made again elsewhere", func() (bool, string) {
		// The evicted pod stays Terminating while its node is silent, as upstream's.
		out, _ := s.kubectl("get", "pods", "-l", "app=mv", "--field-selector", "spec.nodeName="+nodes[1],
			"-o", `jsonpath={.items[*].status.containerStatuses[0].ready}`)
		return out == "true", out
	})
	events, _ := s.kubectl("get", "events", "--field-selector", "reason=TaintManagerEviction", "-o", "jsonpath={.items[*].message}")
	if !strings.Contains(events, "Marking for deletion Pod default/mv-") {
		t.Errorf("eviction events: %q", events)
	}
}

// podsOn lists the nodes of the pods a selector picks.
func (s *sandbox) podsOn(t *testing.T, selector string) string {
	out := s.must(t, "get", "pods", "-l", selector, "-o", `jsonpath={range .items[*]}{.spec.nodeName} {end}`)
	return strings.TrimSpace(out)
}

// fabricClient makes a namespace outside the cluster's nodes, on its
// fabric, at addr; `svcplane down` removes it with the cluster (it bears
// the cluster's prefix).
func (s *sandbox) fabricClient(t *testing.T, addr netip.Prefix) string {
	t.Helper()
	return s.fabricNamespace(t, "client", addr)
}

// fabricNamespace makes namespace sp-<cluster>-<suffix> on the fabric at
// addr: a client, or a machine that joins.
func (s *sandbox) fabricNamespace(t *testing.T, suffix string, addr netip.Prefix) string {
	t.Helper()
	names, dir := netns.Names{Cluster: s.name}, netns.NewDir("")
	path, err := dir.Create(names.Prefix() + suffix)
	if err != nil {
		t.Fatal(err)
	}
	if err := netns.ConnectFabric(dir.Path(names.Fabric()), path, suffix); err != nil {
		t.Fatal(err)
	}
	if err := netns.Do(path, func() error { return netns.SetupSandboxNode(addr) }); err != nil {
		t.Fatal(err)
	}
	return path
}

func curlIn(ns, url string) (string, error) {
	out, err := exec.Command("nsenter", "--net="+ns, "curl", "-sS", "--max-time", "3", url).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// multiNodeManifest: its pods tolerate an unreachable or not-ready node
// for ever, so a late lease under load (the grace period is 8 s) does
// not evict them; only checkNodeLoss's pod is meant to move.
func multiNodeManifest(nodes []string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: hn}
spec:
  replicas: 3
  selector: {matchLabels: {app: hn}}
  template:
    metadata: {labels: {app: hn}}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: hn}}}
      containers:
      - name: c
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [serve-hostname, --http, --port, "9376"]
        readinessProbe: {httpGet: {port: 9376}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hn}
spec:
  selector: {app: hn}
  ports: [{port: 80, targetPort: 9376}]
---
apiVersion: v1
kind: Service
metadata: {name: hnp}
spec:
  type: NodePort
  selector: {app: hn}
  ports: [{port: 80, targetPort: 9376}]
---
apiVersion: v1
kind: Pod
metadata: {name: loc, labels: {app: loc}}
spec:
  nodeName: %[2]s
  terminationGracePeriodSeconds: 1
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
  containers:
  - name: c
    image: registry.k8s.io/e2e-test-images/agnhost:2.53
    args: [netexec, --http-port, "8080"]
    readinessProbe: {httpGet: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: loc}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: loc}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: cl}
spec:
  nodeName: %[1]s
  terminationGracePeriodSeconds: 1
  tolerations:
  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute}
  - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
`, nodes[0], nodes[1])
}
