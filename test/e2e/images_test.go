package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// e2eImagesManifest runs the e2e test images as the conformance specs
// do: two agnhost netexec pods, agnhost with its default command
// (pause), agnhost test-webserver and httpd.
func e2eImagesManifest(node string) string {
	pod := func(name, image, args string) string {
		return fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: %s}
spec:
  nodeName: %s
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: %q, args: %s}
`, name, node, image, args)
	}
	const agnhost = "registry.k8s.io/e2e-test-images/agnhost:2.53"
	return strings.Join([]string{
		pod("netexec-a", agnhost, "[netexec, --http-port=8080, --udp-port=8081]"),
		pod("netexec-b", agnhost, "[netexec, --http-port=8080, --udp-port=8081]"),
		pod("paused", agnhost, "[]"),
		pod("files", agnhost, "[test-webserver]"),
		pod("httpd", "registry.k8s.io/e2e-test-images/httpd:2.4.38-4", "[]"),
	}, "---\n")
}

// TestE2EImages is issue 19's image check: agnhost's netexec /dial over
// UDP between two pods, netcat-openbsd's nc -v -z and -u, agnhost's
// default command (pause) at /agnhost, test-webserver serving the
// container's files, and httpd's "It works!".
func TestE2EImages(t *testing.T) {
	t.Parallel()
	s := startSandbox(t)
	s.apply(t, e2eImagesManifest(s.name))
	ips := map[string]string{}
	for _, p := range []string{"netexec-a", "netexec-b", "paused", "files", "httpd"} {
		s.waitRunningReady(t, p)
		ips[p] = s.podField(p, "{.status.podIP}")
	}
	// exec runs a command in netexec-a until it prints want.
	exec := func(t *testing.T, what, want string, argv ...string) {
		t.Helper()
		s.waitFor(t, 30*time.Second, what, func() (bool, string) {
			out, err := s.kubectl(append([]string{"exec", "netexec-a", "--"}, argv...)...)
			return err == nil && strings.Contains(out, want), fmt.Sprintf("%v\n%s", err, out)
		})
	}
	t.Run("netexec dial over UDP", func(t *testing.T) {
		url := fmt.Sprintf("http://127.0.0.1:8080/dial?request=hostname&protocol=udp&host=%s&port=8081&tries=1", ips["netexec-b"])
		exec(t, "/dial over UDP", `{"responses":["netexec-b"]}`, "curl", "-s", url)
	})
	t.Run("nc", func(t *testing.T) {
		exec(t, "nc -v -z", "succeeded!", "sh", "-c", "nc -v -z -w 2 "+ips["netexec-b"]+" 8080 2>&1")
		out, err := s.kubectl("exec", "netexec-a", "--", "nc", "-z", "-w", "2", ips["netexec-b"], "9")
		if err == nil {
			t.Errorf("nc -z to a closed port succeeded: %s", out)
		}
		exec(t, "nc -u", "netexec-b", "sh", "-c", "echo hostName | nc -v -u -w 2 "+ips["netexec-b"]+" 8081")
	})
	t.Run("agnhost runs pause by default", func(t *testing.T) {
		if out := s.must(t, "logs", "paused"); out != "Paused\n" {
			t.Errorf("logs %q", out)
		}
		if out := s.must(t, "exec", "paused", "--", "/agnhost", "dns-server-list"); strings.TrimSpace(out) == "" {
			t.Errorf("/agnhost dns-server-list printed nothing")
		}
	})
	t.Run("test-webserver", func(t *testing.T) {
		exec(t, "test-webserver serves /etc/hostname", "files", "curl", "-s", "http://"+ips["files"]+"/etc/hostname")
	})
	t.Run("httpd", func(t *testing.T) {
		exec(t, "httpd's page", "<html><body><h1>It works!</h1></body></html>", "curl", "-s", "http://"+ips["httpd"]+"/")
	})
}
