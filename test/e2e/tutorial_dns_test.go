package e2e

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

const busyboxSubdomainManifest = `apiVersion: v1
kind: Service
metadata:
  name: busybox-subdomain
spec:
  selector:
    name: busybox
  clusterIP: None
  ports:
  - name: foo # name is not required for single-port Services
    port: 1234
---
apiVersion: v1
kind: Pod
metadata:
  name: busybox1
  labels:
    name: busybox
spec:
  hostname: busybox-1
  subdomain: busybox-subdomain
  containers:
  - image: busybox:1.28
    command:
      - sleep
      - "3600"
    name: busybox
---
apiVersion: v1
kind: Pod
metadata:
  name: busybox2
  labels:
    name: busybox
spec:
  hostname: busybox-2
  subdomain: busybox-subdomain
  containers:
  - image: busybox:1.28
    command:
      - sleep
      - "3600"
    name: busybox
`

// zkManifest is the ZooKeeper tutorial's zk-hs and zk-cs Services over
// a StatefulSet whose pods listen on ZooKeeper's ports (busybox httpd
// stands in for ZooKeeper, which is not a built-in image).
const zkManifest = `apiVersion: v1
kind: Service
metadata:
  name: zk-hs
  labels:
    app: zk
spec:
  ports:
  - port: 2888
    name: server
  - port: 3888
    name: leader-election
  clusterIP: None
  selector:
    app: zk
---
apiVersion: v1
kind: Service
metadata:
  name: zk-cs
  labels:
    app: zk
spec:
  ports:
  - port: 2181
    name: client
  selector:
    app: zk
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: zk
spec:
  selector:
    matchLabels:
      app: zk
  serviceName: zk-hs
  replicas: 3
  podManagementPolicy: OrderedReady
  template:
    metadata:
      labels:
        app: zk
    spec:
      containers:
      - name: kubernetes-zookeeper
        image: busybox
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && httpd -p 2888 -h /www && httpd -p 3888 -h /www && exec httpd -f -p 2181 -h /www']
        ports:
        - containerPort: 2181
          name: client
        - containerPort: 2888
          name: server
        - containerPort: 3888
          name: leader-election
        readinessProbe:
          tcpSocket:
            port: 2181
          periodSeconds: 1
`

// tutorialDNS: "DNS for Services and Pods", "Debugging DNS Resolution"
// and the StatefulSet tutorials, from pods of two namespaces, with names
// outside the cluster answered by the sandbox's upstream server.
func tutorialDNS(t *testing.T, s *sandbox) {
	before := hostState(t, s.name)
	s.apply(t, busyboxSubdomainManifest)
	s.apply(t, zkManifest)
	s.must(t, "create", "namespace", "dev")
	for _, ns := range []string{"default", "dev"} {
		s.must(t, "-n", ns, "create", "deployment", "web", "--image=nginx")
		s.must(t, "-n", ns, "expose", "deployment", "web", "--port=80")
		s.must(t, "-n", ns, "run", "dnsutils", "--image=busybox:1.28", "--restart=Never", "--", "sleep", "3600")
	}
	for _, pod := range []string{"busybox1", "busybox2", "dnsutils"} {
		s.waitRunningReady(t, pod)
	}
	t.Run("a headless Service over two pods with hostname and subdomain", func(t *testing.T) { s.checkBusyboxSubdomain(t) })
	t.Run("publishNotReadyAddresses finds a pod that is not ready", func(t *testing.T) { s.checkPublishNotReady(t) })
	t.Run("zk-hs and zk-cs over a StatefulSet", func(t *testing.T) { s.checkZooKeeperServices(t) })
	t.Run("names from two namespaces and outside the cluster", func(t *testing.T) { s.checkTwoNamespaces(t) })
	t.Run("a DNS pod deleted while pods ask", func(t *testing.T) { s.checkDNSPodDeleted(t) })
	t.Run("a nodeSelector no node matches", func(t *testing.T) { s.checkPendingNodeSelector(t) })
	t.Run("Ctrl-C and svcplane down leave nothing behind", func(t *testing.T) { s.checkNothingLeft(t, before) })
}

func (s *sandbox) checkBusyboxSubdomain(t *testing.T) {
	ip1, ip2 := s.podField("busybox1", "{.status.podIP}"), s.podField("busybox2", "{.status.podIP}")
	s.waitOut(t, 30*time.Second, []string{"exec", "busybox1", "--", "nslookup", "busybox-subdomain"},
		`Address \d: `+regexp.QuoteMeta(ip1)+` busybox-1\.busybox-subdomain\.default\.svc\.cluster\.local`,
		`Address \d: `+regexp.QuoteMeta(ip2)+` busybox-2\.busybox-subdomain\.default\.svc\.cluster\.local`)
	s.waitOut(t, 30*time.Second, []string{"exec", "busybox1", "--", "nslookup", "busybox-2.busybox-subdomain.default.svc.cluster.local"},
		`Address 1: `+regexp.QuoteMeta(ip2))
	s.waitOut(t, 30*time.Second, []string{"exec", "busybox2", "--", "nslookup", "busybox-1.busybox-subdomain"},
		`Address 1: `+regexp.QuoteMeta(ip1)+` busybox-1\.busybox-subdomain\.default\.svc\.cluster\.local`)
	if out := s.must(t, "exec", "busybox1", "--", "hostname", "-f"); out != "busybox-1.busybox-subdomain.default.svc.cluster.local\n" {
		t.Errorf("hostname -f in busybox1: %q", out)
	}
}

// checkPublishNotReady: a pod that never turns ready is found through a
// headless Service with publishNotReadyAddresses, not through one without.
func (s *sandbox) checkPublishNotReady(t *testing.T) {
	s.apply(t, `apiVersion: v1
kind: Service
metadata:
  name: peers
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector:
    app: peer
  ports:
  - port: 7000
---
apiVersion: v1
kind: Service
metadata:
  name: ready-peers
spec:
  clusterIP: None
  selector:
    app: peer
  ports:
  - port: 7000
---
apiVersion: v1
kind: Pod
metadata:
  name: peer-0
  labels:
    app: peer
spec:
  hostname: peer-0
  subdomain: peers
  containers:
  - name: c
    image: busybox
    command: [sleep, "3600"]
    readinessProbe:
      exec:
        command: ["false"]
      periodSeconds: 1
`)
	s.waitFor(t, 60*time.Second, "peer-0 Running, not ready", func() (bool, string) {
		out := s.podField("peer-0", `{.status.phase} {.status.conditions[?(@.type=="Ready")].status}`)
		return out == "Running False", out
	})
	ip := s.podField("peer-0", "{.status.podIP}")
	s.waitOut(t, 30*time.Second, []string{"exec", "busybox1", "--", "nslookup", "peers"}, `Address 1: `+regexp.QuoteMeta(ip)+` peer-0\.peers\.default\.svc\.cluster\.local`)
	s.waitOut(t, 30*time.Second, []string{"exec", "busybox1", "--", "nslookup", "peer-0.peers"}, `Address 1: `+regexp.QuoteMeta(ip))
	out, err := s.kubectl("exec", "busybox1", "--", "nslookup", "ready-peers")
	if err == nil || !strings.Contains(out, "can't resolve 'ready-peers'") {
		t.Errorf("ready-peers, whose only pod is not ready: %v\n%s", err, out)
	}
}

func (s *sandbox) checkZooKeeperServices(t *testing.T) {
	s.waitReadyReplicas(t, "statefulset", "zk", 3, 120*time.Second)
	for i := range 3 {
		want := fmt.Sprintf("zk-%d.zk-hs.default.svc.cluster.local\n", i)
		if out := s.must(t, "exec", fmt.Sprintf("zk-%d", i), "--", "hostname", "-f"); out != want {
			t.Errorf("hostname -f in zk-%d: %q, want %q", i, out, want)
		}
	}
	s.waitOut(t, 10*time.Second, []string{"get", "svc", "zk-hs", "zk-cs"},
		`zk-hs\s+ClusterIP\s+None\s+<none>\s+2888/TCP,3888/TCP`, `zk-cs\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+2181/TCP`)
	ips := s.podIPs(t, "app=zk")
	var patterns []string
	for _, ip := range ips {
		patterns = append(patterns, `Address \d: `+regexp.QuoteMeta(ip)+`\b`)
	}
	s.waitOut(t, 30*time.Second, []string{"exec", "dnsutils", "--", "nslookup", "zk-hs"}, patterns...)
	s.waitOut(t, 30*time.Second, []string{"exec", "dnsutils", "--", "nslookup", "zk-0.zk-hs"}, `Address 1: `+regexp.QuoteMeta(ips["zk-0"]))
	s.waitWget(t, "dnsutils", "http://zk-cs:2181", "zk-")
	s.waitWget(t, "dnsutils", "http://zk-1.zk-hs:3888", "zk-1")
}

// checkTwoNamespaces: short names find the pod's own namespace's
// Service, name.namespace and full names the other's; names outside the
// cluster come from the sandbox's upstream server.
func (s *sandbox) checkTwoNamespaces(t *testing.T) {
	def, dev := s.clusterIP(t, "web"), strings.TrimSpace(s.must(t, "-n", "dev", "get", "svc", "web", "-o", "jsonpath={.spec.clusterIP}"))
	s.waitFor(t, 60*time.Second, "dev/dnsutils Running", func() (bool, string) {
		out, _ := s.kubectl("-n", "dev", "get", "pod", "dnsutils", "-o", "jsonpath={.status.phase}")
		return out == "Running", out
	})
	for _, c := range []struct{ ns, name, want string }{
		{"default", "web", "Address 1: " + def + " web.default.svc.cluster.local"},
		{"dev", "web", "Address 1: " + dev + " web.dev.svc.cluster.local"},
		{"dev", "web.default", "Address 1: " + def + " web.default.svc.cluster.local"},
		{"default", "web.dev", "Address 1: " + dev + " web.dev.svc.cluster.local"},
		{"default", "web.dev.svc.cluster.local", "Address 1: " + dev + " web.dev.svc.cluster.local"},
		{"dev", "kubernetes.default", "Address 1: 10.10.10.1 kubernetes.default.svc.cluster.local"},
		{"default", "www.example.org", "Address 1: 10.240.77.7"},
		{"dev", "www.example.org", "Address 1: 10.240.77.7"},
	} {
		s.waitOut(t, 30*time.Second, []string{"-n", c.ns, "exec", "dnsutils", "--", "nslookup", c.name}, regexp.QuoteMeta(c.want))
	}
	s.waitFor(t, 30*time.Second, "wget web.dev from default", func() (bool, string) {
		out, err := s.kubectl("exec", "dnsutils", "--", "wget", "-qO-", "-T", "3", "http://web.dev")
		return err == nil && strings.Contains(out, "Welcome to nginx!"), out
	})
	out, err := s.kubectl("-n", "dev", "exec", "dnsutils", "--", "nslookup", "nosuch.example.org")
	if err == nil || !strings.Contains(out, "can't resolve 'nosuch.example.org'") {
		t.Errorf("a name nobody has: %v\n%s", err, out)
	}
}

// checkDNSPodDeleted: a pod asks four times a second while one coredns
// pod is deleted; every query is answered.
func (s *sandbox) checkDNSPodDeleted(t *testing.T) {
	s.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: asker}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: busybox
    command: [sh, -c, 'for i in $(seq 60); do if nslookup -type=a web.default.svc.cluster.local >/dev/null 2>&1; then echo ok; else echo FAIL $i; fi; sleep 0.25; done']
`)
	s.waitFor(t, 60*time.Second, "asker asking", func() (bool, string) {
		out, _ := s.kubectl("logs", "asker")
		return strings.Count(out, "\n") >= 4, out
	})
	victim := strings.Fields(s.must(t, "get", "pods", "-n", "kube-system", "-l", "k8s-app=kube-dns", "-o", "jsonpath={.items[*].metadata.name}"))[0]
	s.must(t, "delete", "pod", "-n", "kube-system", victim, "--wait=false")
	s.waitFor(t, 90*time.Second, "asker done", func() (bool, string) {
		out := s.podField("asker", "{.status.phase}")
		return out == "Succeeded" || out == "Failed", out
	})
	out := s.must(t, "logs", "asker")
	if n := strings.Count(out, "ok\n"); n != 60 || strings.Contains(out, "FAIL") {
		t.Errorf("%d of 60 queries answered while %s was deleted:\n%s", n, victim, out)
	}
}

// checkPendingNodeSelector: "Assign Pods to Nodes": a Deployment whose
// nodeSelector no node matches stays Pending with the scheduler's
// message; --show-labels shows what to add; labelling the node runs it.
func (s *sandbox) checkPendingNodeSelector(t *testing.T) {
	s.apply(t, `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ssd
spec:
  replicas: 1
  selector:
    matchLabels:
      app: ssd
  template:
    metadata:
      labels:
        app: ssd
    spec:
      containers:
      - name: nginx
        image: nginx
        imagePullPolicy: IfNotPresent
      nodeSelector:
        disktype: ssd
`)
	msg := "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling."
	s.waitOut(t, 60*time.Second, []string{"describe", "pod", "-l", "app=ssd"}, `Status:\s+Pending`, `Warning\s+FailedScheduling\s+.*default-scheduler\s+`+regexp.QuoteMeta(msg))
	s.waitOut(t, 10*time.Second, []string{"get", "pods", "-l", "app=ssd"}, `ssd-\S+\s+0/1\s+Pending\s+0`)
	s.waitOut(t, 10*time.Second, []string{"get", "node", "--show-labels"},
		regexp.QuoteMeta(s.name)+`\s+Ready\s+.*kubernetes\.io/hostname=`+regexp.QuoteMeta(s.name))
	if out := s.must(t, "label", "nodes", s.name, "disktype=ssd"); out != "node/"+s.name+" labeled\n" {
		t.Errorf("kubectl label printed %q", out)
	}
	s.waitReadyReplicas(t, "deployment", "ssd", 1, 60*time.Second)
	s.waitOut(t, 10*time.Second, []string{"get", "nodes", "--show-labels"}, `disktype=ssd`)
}
