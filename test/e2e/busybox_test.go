package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/netns"
)

// TestBusyboxTools is issue 9's items 1 and 2: busybox's wget -T works in
// busybox:1.28 and busybox:latest pods, and busybox:1.28.4's nslookup
// walks the search list and prints like 1.28 did, while latest keeps
// busybox 1.37's. A DNS server the test runs in the node's namespace
// stands in for cluster DNS.
func TestBusyboxTools(t *testing.T) {
	t.Parallel()
	needRoot(t)
	bin := os.Getenv("SVCPLANE_BUSYBOX")
	if bin == "" {
		bin = images.DefaultBusybox
	}
	if _, fallback := images.FindBusybox(bin); fallback {
		t.Fatalf("no static busybox at %s: run hack/deps.sh", bin)
	}
	// The test's own DNS server takes the node's port 53.
	s := startSandbox(t, "--no-dns")
	nodeIP := s.must(t, "get", "node", s.name, "-o", `jsonpath={.status.addresses[?(@.type=="InternalIP")].address}`)
	apiIP := s.must(t, "get", "svc", "kubernetes", "-o", "jsonpath={.spec.clusterIP}")
	s.startTestDNS(t, nodeIP+":53",
		"kubernetes.default.svc.cluster.local. A "+apiIP,
		reverse(t, apiIP)+" PTR kubernetes.default.svc.cluster.local.",
		reverse(t, nodeIP)+" PTR kube-dns.kube-system.svc.cluster.local.")
	s.apply(t, fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  nodeName: %s\n  containers:\n  - {name: nginx, image: nginx}\n", s.name))
	for name, image := range map[string]string{"bb128": "busybox:1.28", "bb1284": "busybox:1.28.4", "bblatest": "busybox:latest"} {
		s.apply(t, busyboxPod(name, image, s.name, nodeIP))
	}
	for _, pod := range []string{"web", "bb128", "bb1284", "bblatest"} {
		s.waitRunningReady(t, pod)
	}
	webIP := s.podField("web", "{.status.podIP}")
	t.Run("wget", func(t *testing.T) {
		for _, pod := range []string{"bb128", "bblatest"} {
			s.checkWgetOptions(t, pod, webIP)
			out, err := s.kubectl("exec", pod, "--", "sh", "-c", "wget -qO- -T 3 http://"+webIP+"/")
			if err != nil || !strings.Contains(out, "Welcome to nginx!") {
				t.Errorf("%s: sh -c wget: %v\n%s", pod, err, out)
			}
		}
	})
	t.Run("nslookup 1.28 walks the search list", func(t *testing.T) {
		for _, c := range []struct {
			host string
			argv []string
		}{
			{"kubernetes", []string{"nslookup", "kubernetes"}},
			{"kubernetes.default", []string{"nslookup", "kubernetes.default"}},
			{"kubernetes", []string{"nslookup", "kubernetes", nodeIP}},
			{"kubernetes", []string{"sh", "-c", "nslookup kubernetes"}}, // the shell looks nslookup up in PATH
			{"kubernetes", []string{"env", "nslookup", "kubernetes"}},
		} {
			want := fmt.Sprintf("Server:    %s\nAddress 1: %s kube-dns.kube-system.svc.cluster.local\n\n"+
				"Name:      %s\nAddress 1: %s kubernetes.default.svc.cluster.local\n", nodeIP, nodeIP, c.host, apiIP)
			out, err := s.kubectl(append([]string{"exec", "bb1284", "--"}, c.argv...)...)
			if diff := cmp.Diff(want, out); err != nil || diff != "" {
				t.Errorf("%s: %v (-want +got):\n%s", strings.Join(c.argv, " "), err, diff)
			}
		}
	})
	t.Run("nslookup 1.28 failure", func(t *testing.T) {
		out, err := s.kubectl("exec", "bb1284", "--", "nslookup", "nosuch")
		if err == nil || !strings.Contains(out, "nslookup: can't resolve 'nosuch'\n") ||
			!strings.Contains(out, "command terminated with exit code 1") {
			t.Errorf("nslookup nosuch: %v\n%s", err, out)
		}
	})
	t.Run("nslookup latest is busybox 1.37's", func(t *testing.T) {
		for _, sh := range []bool{false, true} {
			argv := []string{"nslookup", "kubernetes.default.svc.cluster.local"}
			if sh {
				argv = []string{"sh", "-c", strings.Join(argv, " ")}
			}
			out, _ := s.kubectl(append([]string{"exec", "bblatest", "--"}, argv...)...)
			if !strings.Contains(out, "Server:\t\t"+nodeIP+"\n") || !strings.Contains(out, "Address: "+apiIP+"\n") {
				t.Errorf("%s from busybox:latest:\n%s", strings.Join(argv, " "), out)
			}
		}
	})
}

// busyboxPod is a sleeping busybox pod whose resolv.conf names only the
// test's DNS server, with the cluster's search list.
func busyboxPod(name, image, node, dns string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  nodeName: %s
  dnsPolicy: None
  dnsConfig:
    nameservers: [%s]
    searches: [default.svc.cluster.local, svc.cluster.local, cluster.local]
    options: [{name: ndots, value: "5"}]
  containers:
  - {name: c, image: %q, command: [sleep, "3600"]}
`, name, node, dns, image)
}

// checkWgetOptions runs the wget options tutorials use from pod.
func (s *sandbox) checkWgetOptions(t *testing.T, pod, ip string) {
	url := "http://" + ip + "/"
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-qO-", "-T", "3", url}, "Welcome to nginx!"},
		{[]string{"-q", "-T", "3", "-t", "2", "-O-", url}, "Welcome to nginx!"},
		{[]string{"--spider", "-T", "3", url}, "remote file exists"},
		{[]string{"-S", "-qO-", "-T", "3", url}, "HTTP/1.1 200 OK"},
	} {
		out, err := s.kubectl(append([]string{"exec", pod, "--", "wget"}, c.args...)...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("%s: wget %s: %v\n%s", pod, strings.Join(c.args, " "), err, out)
		}
	}
}

// startTestDNS runs testdata/dnsserver in the node's namespace on addr
// until the test ends, or until the returned stop is called.
func (s *sandbox) startTestDNS(t *testing.T, addr string, records ...string) (stop func()) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "dnsserver")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/dnsserver").CombinedOutput(); err != nil {
		t.Fatalf("build dnsserver: %v\n%s", err, out)
	}
	node := netns.NewDir("").Path(netns.Names{Cluster: s.name}.Node(s.name))
	cmd := exec.Command("nsenter", append([]string{"--net=" + node, bin, "-addr", addr}, records...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start dnsserver: %v", err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
	}
	t.Cleanup(stop)
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line == "ready\n"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("dnsserver did not start: %s", stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("dnsserver not ready in 30s: %s", stderr.String())
	}
	return stop
}

// reverse is the reverse-lookup name of an address.
func reverse(t *testing.T, ip string) string {
	t.Helper()
	name, err := dns.ReverseAddr(ip)
	if err != nil {
		t.Fatal(err)
	}
	return name
}
