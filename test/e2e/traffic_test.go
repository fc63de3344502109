package e2e

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/proxy/ipvs"
)

// TestServiceTraffic is issue 10's traffic suite, the same for every mode:
// ClusterIP balancing, NodePort and LoadBalancer from outside the cluster,
// hairpin, ClientIP affinity, UDP across an endpoint replacement, scaling
// to zero, externalTrafficPolicy Local and loadBalancerSourceRanges. Each
// mode is a cluster of its own, all three in parallel.
func TestServiceTraffic(t *testing.T) {
	for _, mode := range []string{"iptables", "nftables", "userspace"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			proxySuite(t, mode)
		})
	}
}

// The client namespace stands for a machine outside the cluster: it
// reaches the node's address (and the load-balancer range) through a veth
// into the node's namespace.
const (
	lbRange       = "10.240.50.0/24"
	clientNodeEnd = "10.240.9.1/24"
	clientEnd     = "10.240.9.2/24"
	clientIP      = "10.240.9.2"
	otherClientIP = "10.240.9.3"
	nodeAddr      = "10.240.0.2"
)

const hostnamesManifest = `apiVersion: apps/v1
kind: Deployment
metadata: {name: hostnames}
spec:
  replicas: 3
  selector: {matchLabels: {app: hostnames}}
  template:
    metadata: {labels: {app: hostnames}}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [serve-hostname]
        ports: [{containerPort: 9376}]
---
apiVersion: v1
kind: Service
metadata: {name: hostnames}
spec:
  selector: {app: hostnames}
  ports: [{name: http, port: 80, targetPort: 9376}]
---
apiVersion: v1
kind: Service
metadata: {name: hostnames-np}
spec:
  type: NodePort
  selector: {app: hostnames}
  ports: [{name: http, port: 80, targetPort: 9376}]
---
apiVersion: v1
kind: Service
metadata: {name: hostnames-lb}
spec:
  type: LoadBalancer
  selector: {app: hostnames}
  ports: [{name: http, port: 80, targetPort: 9376}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: hostnames}
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: 9376}]
`

func proxySuite(t *testing.T, mode string) {
	// Where the kernel has no IPVS (this machine's), the iptables cluster
	// asks for ipvs and gets iptables through the fallback the tutorials
	// describe, so the suite shows its traffic flows.
	asked, fallback := mode, mode == "iptables" && ipvs.Probe() != nil
	if fallback {
		asked = "ipvs"
	}
	s := startSandbox(t, "--proxy-mode", asked, "--loadbalancer-ip-range", lbRange)
	if fallback {
		t.Run("ipvs falls back to iptables on a kernel without IPVS", func(t *testing.T) { s.checkIPVSFallback(t) })
	}
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

	t.Run("ClusterIP spreads over every pod", func(t *testing.T) { s.checkSpread(t, ip, pods) })
	t.Run("NodePort answers from outside", func(t *testing.T) {
		port := s.must(t, "get", "svc", "hostnames-np", "-o", "jsonpath={.spec.ports[0].nodePort}")
		client.wantHostname(t, s, "http://"+nodeAddr+":"+port+"/", pods)
	})
	t.Run("LoadBalancer address answers from outside", func(t *testing.T) {
		lb := s.lbIP(t, "hostnames-lb")
		client.wantHostname(t, s, "http://"+lb+"/", pods)
	})
	t.Run("ClientIP affinity keeps one pod", func(t *testing.T) { s.checkAffinity(t) })
	t.Run("a pod reaches itself through its Service", func(t *testing.T) { s.checkHairpin(t) })
	t.Run("UDP survives an endpoint replacement", func(t *testing.T) { s.checkUDPReplacement(t) })
	t.Run("externalTrafficPolicy Local keeps the client address", func(t *testing.T) { s.checkLocalPolicy(t, client, mode) })
	t.Run("loadBalancerSourceRanges drops other sources", func(t *testing.T) { s.checkSourceRanges(t, client) })
	if mode == "nftables" {
		t.Run("nft list shows the service's entry", func(t *testing.T) { s.checkNFTList(t, ip) })
	}
	if mode == "userspace" {
		t.Run("proxy rules lists the listeners, no kernel rules", func(t *testing.T) { s.checkUserspaceRules(t, ip) })
	}
	if mode != "iptables" {
		t.Run("rr and sh schedulers", func(t *testing.T) { s.checkSchedulers(t, pods) })
	}
	// Before the scale to zero, while the Service has endpoints: without
	// them kube-proxy (and svcplane) writes no chain for it.
	if mode == "iptables" {
		t.Run("iptables-save shows kube-proxy's chains", func(t *testing.T) { s.checkIPTablesSave(t, ip) })
	}
	if mode == "iptables" || mode == "nftables" {
		t.Run("svcplane trace follows the kernel's rules", func(t *testing.T) { s.checkTrace(t, mode, ip) })
	}
	t.Run("no endpoints is refused at once", func(t *testing.T) { s.checkScaleToZero(t, ip) })

}

func (s *sandbox) clusterIP(t *testing.T, svc string) string {
	t.Helper()
	return strings.TrimSpace(s.must(t, "get", "svc", svc, "-o", "jsonpath={.spec.clusterIP}"))
}

func (s *sandbox) lbIP(t *testing.T, svc string) string {
	t.Helper()
	var ip string
	s.waitFor(t, 30*time.Second, svc+" load-balancer address", func() (bool, string) {
		ip, _ = s.kubectl("get", "svc", svc, "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}")
		return ip != "", ip
	})
	return ip
}

// fetch runs busybox wget in pod bb and returns what it printed.
func (s *sandbox) fetch(pod, url string) (string, error) {
	out, err := s.kubectl("exec", pod, "--", "timeout", "5", "wget", "-qO-", url)
	return strings.TrimSpace(out), err
}

// checkSpread sends 300 requests from a pod to the ClusterIP; each of the
// three pods must serve at least 20% of them.
func (s *sandbox) checkSpread(t *testing.T, ip string, pods []string) {
	script := fmt.Sprintf(`for i in $(seq 300); do timeout 5 wget -qO- http://%s/; echo; done`, ip)
	var out string
	s.waitFor(t, 20*time.Second, "the ClusterIP answering", func() (bool, string) {
		got, err := s.fetch("bb", "http://"+ip+"/")
		return err == nil && got != "", got
	})
	out, err := s.kubectl("exec", "bb", "--", "sh", "-c", script)
	if err != nil {
		t.Fatalf("300 requests: %v\n%s", err, tail(out, 10))
	}
	count := map[string]int{}
	for _, line := range strings.Fields(out) {
		count[line]++
	}
	for _, p := range pods {
		if count[p] < 60 {
			t.Errorf("pod %s served %d of 300 requests (want at least 60): %v", p, count[p], count)
		}
	}
}

func (s *sandbox) checkAffinity(t *testing.T) {
	ip := s.clusterIP(t, "sticky")
	first := ""
	s.waitFor(t, 20*time.Second, "sticky answering", func() (bool, string) {
		first, _ = s.fetch("bb", "http://"+ip+"/")
		return first != "", first
	})
	out, err := s.kubectl("exec", "bb", "--", "sh", "-c", fmt.Sprintf(`for i in $(seq 20); do timeout 5 wget -qO- http://%s/; echo; done`, ip))
	if err != nil {
		t.Fatalf("requests: %v\n%s", err, out)
	}
	for _, got := range strings.Fields(out) {
		if got != first {
			t.Fatalf("affinity broken: first %s, then %s", first, got)
		}
	}
}

// checkHairpin: a busybox httpd pod fetches from itself through its own
// Service.
func (s *sandbox) checkHairpin(t *testing.T) {
	s.apply(t, `apiVersion: v1
kind: Pod
metadata: {name: self, labels: {app: self}}
spec:
  containers:
  - name: httpd
    image: busybox
    command: [sh, -c, 'mkdir -p /tmp/www && echo hello-from-self > /tmp/www/index.html && httpd -f -p 8080 -h /tmp/www']
---
apiVersion: v1
kind: Service
metadata: {name: self}
spec:
  selector: {app: self}
  ports: [{port: 80, targetPort: 8080}]
`)
	s.waitRunningReady(t, "self")
	ip := s.clusterIP(t, "self")
	s.waitFor(t, 30*time.Second, "the pod reaching itself through "+ip, func() (bool, string) {
		out, err := s.fetch("self", "http://"+ip+"/")
		return err == nil && out == "hello-from-self", out
	})
}

// checkUDPReplacement keeps one UDP socket (one conntrack entry) talking to
// a Service while its only endpoint is replaced.
func (s *sandbox) checkUDPReplacement(t *testing.T) {
	s.apply(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: udp}
spec:
  replicas: 1
  selector: {matchLabels: {app: udp}}
  template:
    metadata: {labels: {app: udp}}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [serve-hostname, --udp, --http=false]
---
apiVersion: v1
kind: Service
metadata: {name: udp}
spec:
  selector: {app: udp}
  ports: [{name: dns, port: 53, targetPort: 9376, protocol: UDP}]
`)
	ip := s.clusterIP(t, "udp")
	conn := s.nodeUDPSocket(t)
	ask := func() string {
		_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
		if _, err := conn.WriteTo([]byte("hostname?"), &net.UDPAddr{IP: net.ParseIP(ip), Port: 53}); err != nil {
			return "write: " + err.Error()
		}
		buf := make([]byte, 256)
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			return ""
		}
		return string(buf[:n])
	}
	var first string
	s.waitFor(t, 60*time.Second, "the UDP Service answering", func() (bool, string) {
		first = ask()
		return strings.HasPrefix(first, "udp-"), first + "\n" + s.nodeState("conntrack", "-L", "-p", "udp") + s.nodeState("svcplane-proxy-rules")
	})
	s.must(t, "delete", "pod", first, "--wait=false")
	s.waitFor(t, 60*time.Second, "the replacement pod answering on the same socket", func() (bool, string) {
		got := ask()
		return strings.HasPrefix(got, "udp-") && got != first, got
	})
}

// nodeUDPSocket opens a UDP socket inside the node's namespace with a
// fixed local address, so every datagram belongs to one conntrack entry.
func (s *sandbox) nodeUDPSocket(t *testing.T) net.PacketConn {
	t.Helper()
	var conn net.PacketConn
	err := netns.Do(s.nodeNetns(), func() error {
		var err error
		conn, err = net.ListenPacket("udp4", nodeAddr+":40053")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// nodeState runs a command in the node's namespace for a failure
// message ("svcplane-proxy-rules" prints the proxy's rules).
func (s *sandbox) nodeState(cmd ...string) string {
	if cmd[0] == "svcplane-proxy-rules" {
		cmd = []string{binary, "proxy", "rules"}
	}
	out, err := exec.Command("nsenter", append([]string{"--net=" + s.nodeNetns(), "--"}, cmd...)...).CombinedOutput()
	return fmt.Sprintf("$ %s: %v\n%s", strings.Join(cmd, " "), err, out)
}

func (s *sandbox) nodeNetns() string {
	return netns.NewDir("").Path(netns.Names{Cluster: s.name}.Node(s.name))
}

// checkLocalPolicy: the Local NodePort answers from outside with the
// client's address, except in userspace mode, where the proxy connects to
// the endpoint from the node (see internal/proxy/userspace/README.md).
func (s *sandbox) checkLocalPolicy(t *testing.T, c *clientNS, mode string) {
	s.apply(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 1
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
      - name: agnhost
        image: registry.k8s.io/e2e-test-images/agnhost:2.53
        args: [netexec, --http-port=8080]
---
apiVersion: v1
kind: Service
metadata: {name: echo-local}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
`)
	port := s.must(t, "get", "svc", "echo-local", "-o", "jsonpath={.spec.ports[0].nodePort}")
	s.waitFor(t, 60*time.Second, "the client address seen through a Local NodePort", func() (bool, string) {
		out, err := c.curl("http://" + nodeAddr + ":" + port + "/clientip")
		if mode == "userspace" {
			return err == nil && !strings.HasPrefix(out, clientIP+":") && strings.Contains(out, ":"), out
		}
		return err == nil && strings.HasPrefix(out, clientIP+":"), out
	})
}

// checkUserspaceRules: `svcplane proxy rules` in the node shows the
// ClusterIP's listener; the node has no iptables nat rules and no
// svcplane nftables table.
// checkTrace: svcplane trace from the busybox pod to the Service reads
// the node's rules of the mode and finds each of the three endpoints,
// a third of the time each.
func (s *sandbox) checkTrace(t *testing.T, mode, ip string) {
	out, err := exec.Command(binary, "trace", "--kubeconfig", s.kubeconfig(), "--from", "pod/bb", "--to", "svc/hostnames").CombinedOutput()
	if err != nil {
		t.Fatalf("svcplane trace: %v\n%s", err, out)
	}
	text := string(out)
	eps := strings.Fields(s.must(t, "get", "pods", "-l", "app=hostnames", "-o", `jsonpath={range .items[*]}{.status.podIP}{" "}{end}`))
	want := []string{"From pod default/bb (", "to " + ip + ":80/TCP (service default/hostnames port 80", mode + " mode ("}
	for _, e := range eps {
		want = append(want, "to endpoint "+e+":9376; chance 33.3%")
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("svcplane trace lacks %q:\n%s", w, text)
		}
	}
	if n := strings.Count(text, "  way "); n != 3 {
		t.Errorf("svcplane trace shows %d ways, want 3:\n%s", n, text)
	}
}

// checkIPVSFallback: a node asked for ipvs where the kernel has none
// logs one line naming what is missing, records a Warning Event
// IPVSUnavailable on its Node, and runs iptables mode, which `svcplane
// proxy rules` says.
func (s *sandbox) checkIPVSFallback(t *testing.T) {
	line := "ipvs proxy mode unavailable, running iptables mode instead"
	s.waitFor(t, 30*time.Second, "up's log line on the ipvs fallback", func() (bool, string) {
		return strings.Contains(s.output(), line), tail(s.output(), 20)
	})
	if n := strings.Count(s.output(), line); n != 1 {
		t.Errorf("up logged the ipvs fallback %d times, want once:\n%s", n, tail(s.output(), 40))
	}
	s.waitFor(t, 30*time.Second, "the IPVSUnavailable Event on the Node", func() (bool, string) {
		out, _ := s.kubectl("get", "events", "-A", "--field-selector", "reason=IPVSUnavailable",
			"-o", `jsonpath={range .items[*]}{.type} {.involvedObject.kind}/{.involvedObject.name}: {.message}{"\n"}{end}`)
		return strings.Contains(out, "Warning Node/"+s.name+": ipvs proxy mode unavailable (") && strings.Contains(out, "running iptables mode"), out
	})
	out, err := exec.Command("nsenter", "--net="+s.nodeNetns(), binary, "proxy", "rules").CombinedOutput()
	if err != nil {
		t.Fatalf("proxy rules: %v\n%s", err, out)
	}
	for _, want := range []string{"# ipvs mode unavailable here", "# iptables mode, IPv4"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("proxy rules lack %q:\n%s", want, out)
		}
	}
}

func (s *sandbox) checkUserspaceRules(t *testing.T, ip string) {
	out, err := exec.Command("nsenter", "--net="+s.nodeNetns(), binary, "proxy", "rules").CombinedOutput()
	if err != nil {
		t.Fatalf("proxy rules: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "# userspace mode, IPv4") || !regexp.MustCompile(regexp.QuoteMeta(ip)+`:80 +TCP +default/hostnames:http +cluster-ip +rr`).Match(out) {
		t.Errorf("proxy rules lack the userspace listener of %s:\n%s", ip, out)
	}
	if strings.Contains(string(out), "KUBE-SERVICES") || strings.Contains(string(out), "table ip svcplane") {
		t.Errorf("kernel rules in userspace mode:\n%s", out)
	}
}

func (s *sandbox) checkSourceRanges(t *testing.T, c *clientNS) {
	s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: ranged}
spec:
  type: LoadBalancer
  loadBalancerSourceRanges: [%s/32]
  selector: {app: hostnames}
  ports: [{name: http, port: 80, targetPort: 9376}]
`, otherClientIP))
	lb := s.lbIP(t, "ranged")
	url := "http://" + lb + "/"
	// From 10.240.9.2 (not in the range): dropped, so curl times out.
	s.waitFor(t, 30*time.Second, "the LB address dropping other sources", func() (bool, string) {
		out, err := c.curl(url)
		return err != nil, out
	})
	// From 10.240.9.3 (in the range): answered.
	s.waitFor(t, 30*time.Second, "the LB address answering the allowed source", func() (bool, string) {
		out, err := c.curlFrom(otherClientIP, url)
		return err == nil && strings.HasPrefix(out, "hostnames-"), out
	})
}

func (s *sandbox) checkScaleToZero(t *testing.T, ip string) {
	s.must(t, "scale", "deploy", "hostnames", "--replicas=0")
	s.waitFor(t, 60*time.Second, "connection refused at once", func() (bool, string) {
		start := time.Now()
		out, err := s.fetch("bb", "http://"+ip+"/")
		quick := time.Since(start) < 3*time.Second
		return err != nil && quick && strings.Contains(out, "refused"), out
	})
}

// checkIPTablesSave reads the nat table of both iptables backends (the
// proxy uses legacy when the node held no rules, as the README says).
func (s *sandbox) checkIPTablesSave(t *testing.T, ip string) {
	var out []byte
	for _, save := range []string{"iptables-save", "iptables-legacy-save"} {
		got, err := exec.Command("nsenter", "--net="+s.nodeNetns(), save, "-t", "nat").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", save, err, got)
		}
		out = append(out, got...)
	}
	chain := svcChain("default/hostnames:http", "tcp")
	want := fmt.Sprintf(`-A KUBE-SERVICES -d %s/32 -p tcp -m comment --comment "default/hostnames:http cluster IP" -m tcp --dport 80 -j %s`, ip, chain)
	if !strings.Contains(string(out), want) {
		t.Errorf("iptables-save lacks\n%s\n%s", want, out)
	}
	if !strings.Contains(string(out), ":"+chain) {
		t.Errorf("no chain %s", chain)
	}
}

func (s *sandbox) checkNFTList(t *testing.T, ip string) {
	out, err := exec.Command("nsenter", "--net="+s.nodeNetns(), "nft", "list", "table", "ip", "svcplane").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list: %v\n%s", err, out)
	}
	for _, want := range []string{ip + " . tcp . 80 : goto cluster-ip", ip + " . tcp . 80 : goto cluster-tcp-random-3"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("nft list lacks %q:\n%s", want, out)
		}
	}
}

// checkSchedulers: with svcplane.io/scheduler rr, 30 connections from one
// client take the 3 pods in turn (10 each); with sh, they all land on one.
func (s *sandbox) checkSchedulers(t *testing.T, pods []string) {
	for _, sched := range []string{"rr", "sh"} {
		s.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: sched-%s, annotations: {svcplane.io/scheduler: %s}}
spec:
  selector: {app: hostnames}
  ports: [{name: http, port: 80, targetPort: 9376}]
`, sched, sched))
		ip := s.clusterIP(t, "sched-"+sched)
		s.waitFor(t, 20*time.Second, "sched-"+sched+" answering", func() (bool, string) {
			got, err := s.fetch("bb", "http://"+ip+"/")
			return err == nil && got != "", got
		})
		out, err := s.kubectl("exec", "bb", "--", "sh", "-c", fmt.Sprintf(`for i in $(seq 30); do timeout 5 wget -qO- http://%s/; echo; done`, ip))
		if err != nil {
			t.Fatalf("%s: %v\n%s", sched, err, out)
		}
		count := map[string]int{}
		for _, line := range strings.Fields(out) {
			count[line]++
		}
		switch {
		case sched == "rr" && (len(count) != len(pods) || count[pods[0]] != 10 || count[pods[1]] != 10):
			t.Errorf("rr: want 10 connections on each of %v, got %v", pods, count)
		case sched == "sh" && len(count) != 1:
			t.Errorf("sh: want every connection on one pod, got %v", count)
		}
	}
}

// clientNS is a network namespace outside the cluster, joined to the node
// by a veth.
type clientNS struct {
	name string
}

// clientNamespace makes the client namespace; down removes it with the
// cluster's other namespaces, and the test's cleanup does too.
func (s *sandbox) clientNamespace(t *testing.T) *clientNS {
	t.Helper()
	name := netns.Names{Cluster: s.name}.Prefix() + "client"
	c := &clientNS{name: name}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "delete", name).Run() })
	node := netns.Names{Cluster: s.name}.Node(s.name)
	veth := "spcl" + strconv.Itoa(int(sandboxSeq.Load()))
	steps := [][]string{
		{"ip", "netns", "add", name},
		{"ip", "-n", node, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", name},
		{"ip", "-n", node, "addr", "add", clientNodeEnd, "dev", veth},
		{"ip", "-n", node, "link", "set", veth, "up"},
		{"ip", "-n", name, "addr", "add", clientEnd, "dev", "eth0"},
		{"ip", "-n", name, "addr", "add", otherClientIP + "/24", "dev", "eth0"},
		{"ip", "-n", name, "link", "set", "eth0", "up"},
		{"ip", "-n", name, "link", "set", "lo", "up"},
		{"ip", "-n", name, "route", "add", "default", "via", strings.Split(clientNodeEnd, "/")[0]},
	}
	for _, st := range steps {
		if out, err := exec.Command(st[0], st[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(st, " "), err, out)
		}
	}
	return c
}

func (c *clientNS) curl(url string) (string, error) { return c.curlFrom(clientIP, url) }

func (c *clientNS) curlFrom(src, url string) (string, error) {
	out, err := exec.Command("ip", "netns", "exec", c.name, "curl", "-sS", "--interface", src, "--max-time", "3", url).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// wantHostname waits until url answers from the client with one of pods.
func (c *clientNS) wantHostname(t *testing.T, s *sandbox, url string, pods []string) {
	t.Helper()
	s.waitFor(t, 30*time.Second, url+" from outside", func() (bool, string) {
		out, err := c.curl(url)
		for _, p := range pods {
			if err == nil && out == p {
				return true, out
			}
		}
		return false, out
	})
}

// svcChain is kube-proxy's KUBE-SVC chain name, computed here independently
// of the proxy's code.
func svcChain(portName, proto string) string {
	return "KUBE-SVC-" + hashName(portName+proto)
}

func hashName(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base32.StdEncoding.EncodeToString(sum[:])[:16]
}
