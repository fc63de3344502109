package guest

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	// nodeIP is the node's address, on a dummy eth0 with the default
	// route (the guest has no network device).
	nodeIP = "10.0.2.15"
	// dataDir is up's data directory, on the guest's tmpfs.
	dataDir       = "/tmp/svcplane"
	upLog         = "/tmp/svcplane-up.log"
	testNamespace = "default"
	agnhost       = "registry.k8s.io/e2e-test-images/agnhost:2.53"
)

// clientIPs are more addresses of eth0 that clients send from.
func clientIPs() []netip.Addr {
	var out []netip.Addr
	for i := 100; i < 110; i++ {
		out = append(out, netip.AddrFrom4([4]byte{10, 0, 2, byte(i)}))
	}
	return out
}

// node is a running `svcplane up` and a client of its API.
type node struct {
	client   kubernetes.Interface
	podNames []string
	start    time.Time
}

// startNode gives the guest a node address, starts `svcplane up
// --proxy-mode ipvs` and waits for its API and its Ready Node. The node
// is stopped (and its log shown on failure) when the test ends.
func startNode(t *testing.T) *node {
	t.Helper()
	n := &node{start: time.Now()}
	run(t, "ip", "link", "add", "eth0", "type", "dummy")
	run(t, "ip", "addr", "add", nodeIP+"/24", "dev", "eth0")
	for _, ip := range clientIPs() {
		run(t, "ip", "addr", "add", ip.String()+"/24", "dev", "eth0")
	}
	run(t, "ip", "link", "set", "eth0", "up")
	run(t, "ip", "route", "add", "default", "via", "10.0.2.2", "dev", "eth0")
	t.Cleanup(func() { _ = exec.Command("ip", "link", "del", "eth0").Run() })

	logf, err := os.Create(upLog)
	if err != nil {
		t.Fatal(err)
	}
	// --no-addons: the proxy runs in up's process, as the checks read its
	// log (the guest's minimal root also lacks the kube-proxy image's
	// libraries).
	cmd := exec.Command("svcplane", "up", "--proxy-mode", "ipvs", "--example=false", "--no-dns", "--no-addons",
		"--data-dir", dataDir, "--node-name", "vm", "--log-level", "debug")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start svcplane up: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stopUp(t, cmd, exited)
		logf.Close()
		if t.Failed() {
			t.Logf("svcplane up's log (without etcd's lines):\n%s", upLogTail(200))
		}
	})
	n.client = waitAPI(t, exited)
	t.Cleanup(func() {
		if t.Failed() {
			n.diagnose(t)
		}
	})
	n.logStep(t, "API served")
	n.waitNodeReady(t)
	n.logStep(t, "node Ready")
	return n
}

func (n *node) logStep(t *testing.T, what string) {
	t.Helper()
	t.Logf("%s after %s", what, time.Since(n.start).Round(100*time.Millisecond))
}

// stopUp stops up as Ctrl-C does, then kills what is left of it.
func stopUp(t *testing.T, cmd *exec.Cmd, exited <-chan struct{}) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Logf("svcplane up did not stop within 30s of SIGTERM: killed")
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// upLogTail is the last n lines of up's log that are not etcd's.
func upLogTail(n int) string {
	f, err := os.Open(upLog)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if !strings.Contains(sc.Text(), "component=etcd") {
			lines = append(lines, sc.Text())
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitAPI waits for up's admin kubeconfig and a served API.
func waitAPI(t *testing.T, exited <-chan struct{}) kubernetes.Interface {
	t.Helper()
	var client kubernetes.Interface
	poll(t, 6*time.Minute, "the API server", func(ctx context.Context) (bool, error) {
		select {
		case <-exited:
			return false, fmt.Errorf("svcplane up exited")
		default:
		}
		rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dataDir, "admin.kubeconfig"))
		if err != nil {
			return false, nil
		}
		c, err := kubernetes.NewForConfig(rc)
		if err != nil {
			return false, err
		}
		if _, err := c.CoreV1().Namespaces().Get(ctx, "kube-system", metav1.GetOptions{}); err != nil {
			return false, nil
		}
		client = c
		return true, nil
	})
	return client
}

func (n *node) waitNodeReady(t *testing.T) {
	t.Helper()
	poll(t, 5*time.Minute, "node vm Ready", func(ctx context.Context) (bool, error) {
		nd, err := n.client.CoreV1().Nodes().Get(ctx, "vm", metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		for _, c := range nd.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// hostnames makes the tutorials' Deployment of three agnhost
// serve-hostname pods and a NodePort Service over them (port 80 to
// 9376), and waits for the three endpoints to be ready.
func (n *node) hostnames(t *testing.T) *corev1.Service {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	labels := map[string]string{"app": "hostnames"}
	replicas := int32(3)
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnames"},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{
					Name: "hostnames", Image: agnhost, Command: []string{"/agnhost", "serve-hostname"},
					Ports: []corev1.ContainerPort{{ContainerPort: 9376}},
					// Ready once it serves; never unready again, even
					// when emulation on a busy machine is slow to answer
					// (a flapping endpoint would change the real servers
					// under the checks).
					ReadinessProbe: &corev1.Probe{
						ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(9376)}},
						PeriodSeconds: 2, TimeoutSeconds: 30, FailureThreshold: 1000,
					},
				}}},
			},
		},
	}
	if _, err := n.client.AppsV1().Deployments(testNamespace).Create(ctx, dep, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create deployment hostnames: %v", err)
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "hostnames"},
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeNodePort,
			Selector: labels,
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(9376), Protocol: corev1.ProtocolTCP}},
		},
	}
	svc, err := n.client.CoreV1().Services(testNamespace).Create(ctx, svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service hostnames: %v", err)
	}
	n.waitEndpoints(t, 3)
	n.logStep(t, "three endpoints ready")
	return svc
}

// waitEndpoints waits for want ready endpoints of hostnames and records
// their pods' names (which serve-hostname answers).
func (n *node) waitEndpoints(t *testing.T, want int) {
	t.Helper()
	poll(t, 6*time.Minute, fmt.Sprintf("%d ready endpoints of hostnames", want), func(ctx context.Context) (bool, error) {
		slices, err := n.client.DiscoveryV1().EndpointSlices(testNamespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=hostnames"})
		if err != nil {
			return false, nil
		}
		var pods []string
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				if e.Conditions.Ready != nil && *e.Conditions.Ready && e.TargetRef != nil {
					pods = append(pods, e.TargetRef.Name)
				}
			}
		}
		sort.Strings(pods)
		n.podNames = pods
		return len(pods) == want, nil
	})
}

// realServer is a line of `ipvsadm -ln` under a virtual service.
type realServer struct {
	addr   string
	weight int
}

// ipvsService finds vs in `ipvsadm -ln` output: its scheduler and real
// servers ("" when it is not listed).
func ipvsService(out string, vs netip.AddrPort) (string, []realServer) {
	sched := ""
	var rs []realServer
	in := false
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "TCP" && f[1] == vs.String():
			in, sched = true, f[2]
		case len(f) >= 1 && f[0] != "->":
			in = false
		case in && len(f) >= 4 && f[0] == "->":
			w, _ := strconv.Atoi(f[3])
			rs = append(rs, realServer{f[1], w})
		}
	}
	return sched, rs
}

// waitIPVS waits for `ipvsadm -ln` to list vs with scheduler sched and
// want real servers of weight 1, then for vs to answer (the sync that
// made the virtual service adds its ipset entries, without which
// KUBE-IPVS-FILTER rejects new connections, after it), and returns the
// listing.
func (n *node) waitIPVS(t *testing.T, vs netip.AddrPort, sched string, want int) string {
	t.Helper()
	defer func() {
		if !t.Failed() {
			n.waitAnswer(t, vs)
		}
	}()
	var out string
	// Minutes: under emulation on a busy machine the endpoints reach the
	// proxy 10-20 s after the pods are Ready, and a sync takes seconds.
	defer func() {
		if t.Failed() {
			t.Logf("ipvsadm -ln last seen:\n%s", out)
		}
	}()
	poll(t, 3*time.Minute, fmt.Sprintf("ipvsadm -ln to list %s %s with %d real servers of weight 1", vs, sched, want), func(context.Context) (bool, error) {
		b, err := exec.Command("ipvsadm", "-ln").CombinedOutput()
		out = string(b)
		if err != nil {
			return false, nil
		}
		s, rs := ipvsService(out, vs)
		if s != sched || len(rs) != want {
			return false, nil
		}
		for _, r := range rs {
			if r.weight != 1 {
				return false, nil
			}
		}
		return true, nil
	})
	return out
}

// waitAnswer waits for an HTTP answer from vs.
func (n *node) waitAnswer(t *testing.T, vs netip.AddrPort) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	poll(t, time.Minute, "an answer from "+vs.String(), func(context.Context) (bool, error) {
		resp, err := client.Get("http://" + vs.String() + "/")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// requests makes count HTTP requests to vs, each on a new connection
// (from src when valid), and counts the pods that answered.
func (n *node) requests(t *testing.T, vs netip.AddrPort, src netip.Addr, count int) map[string]int {
	t.Helper()
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if src.IsValid() {
		dialer.LocalAddr = &net.TCPAddr{IP: src.AsSlice()}
	}
	var local string
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err == nil {
			local = c.LocalAddr().String()
		}
		return c, err
	}
	client := &http.Client{
		Timeout:   30 * time.Second,
		Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true},
	}
	counts := map[string]int{}
	var trace []string
	defer func() { t.Logf("requests to %s: %s", vs, strings.Join(trace, ", ")) }()
	for i := 0; i < count; i++ {
		resp, err := client.Get("http://" + vs.String() + "/")
		if err != nil {
			t.Fatalf("request %d to %s (from %v): %v", i+1, vs, src, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d to %s: status %d, %v", i+1, vs, resp.StatusCode, err)
		}
		counts[strings.TrimSpace(string(body))]++
		trace = append(trace, local+" -> "+strings.TrimSpace(string(body)))
	}
	return counts
}

// poll calls cond every half second until it is done, fails or timeout
// passes, and fails the test then.
func poll(t *testing.T, timeout time.Duration, what string, cond func(context.Context) (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		c, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		return cond(c)
	})
	if err != nil {
		t.Fatalf("waiting for %s: %v", what, err)
	}
}

// diagnose logs what decides where connections go: the node's and the
// pods' conditions, the Service's endpoints, the Events, and the
// kernel's IPVS connection entries and counters.
func (n *node) diagnose(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if nd, err := n.client.CoreV1().Nodes().Get(ctx, "vm", metav1.GetOptions{}); err == nil {
		for _, c := range nd.Status.Conditions {
			t.Logf("node %s=%s since %s (heartbeat %s): %s", c.Type, c.Status, c.LastTransitionTime.Format(time.RFC3339), c.LastHeartbeatTime.Format(time.RFC3339), c.Message)
		}
	}
	if pods, err := n.client.CoreV1().Pods(testNamespace).List(ctx, metav1.ListOptions{}); err == nil {
		for _, p := range pods.Items {
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady {
					t.Logf("pod %s %s Ready=%s since %s %s; restarts %d", p.Name, p.Status.PodIP, c.Status, c.LastTransitionTime.Format(time.RFC3339), c.Reason, restarts(p))
				}
			}
		}
	}
	if slices, err := n.client.DiscoveryV1().EndpointSlices(testNamespace).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=hostnames"}); err == nil {
		for _, s := range slices.Items {
			for _, e := range s.Endpoints {
				t.Logf("endpoint %v ready=%v serving=%v terminating=%v", e.Addresses, deref(e.Conditions.Ready), deref(e.Conditions.Serving), deref(e.Conditions.Terminating))
			}
		}
	}
	if evs, err := n.client.CoreV1().Events("").List(ctx, metav1.ListOptions{}); err == nil {
		for _, e := range evs.Items {
			t.Logf("event %s (x%d since %s) %s %s/%s %s: %s", e.LastTimestamp.Format(time.RFC3339), e.Count, e.FirstTimestamp.Format(time.RFC3339), e.Type, e.InvolvedObject.Kind, e.InvolvedObject.Name, e.Reason, e.Message)
		}
	}
	for _, c := range [][]string{
		{"sh", "-c", "grep 'component=proxy' " + upLog + " | tail -n 150"},
		{"ipvsadm", "-ln"}, {"ipvsadm", "-lnc"}, {"ipvsadm", "-ln", "--stats"},
		{"sh", "-c", "grep . /proc/sys/net/ipv4/vs/*"}, {"conntrack", "-L"},
	} {
		out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		t.Logf("%s (%v):\n%s", strings.Join(c, " "), err, out)
	}
}

func deref(b *bool) string {
	if b == nil {
		return "nil"
	}
	return strconv.FormatBool(*b)
}

func restarts(p corev1.Pod) int32 {
	var n int32
	for _, cs := range p.Status.ContainerStatuses {
		n += cs.RestartCount
	}
	return n
}
