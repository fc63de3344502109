package e2e

import (
	"errors"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/netns"
)

// checkPodMTU: jn, on the joined node (VXLAN), has MTU 1450 (the
// underlay's 1500 less 50, as flannel's pods); a datagram of 1423 bytes
// with DF set is refused at once in jn, one of 1422 (a 1450-byte packet)
// crosses the overlay to cl on the first node (whose kernel answers port
// unreachable), and a 64 KiB body served from jn's namespace reaches cl
// whole.
func (s *sandbox) checkPodMTU(t *testing.T) {
	uid := s.must(t, "get", "pod", "jn", "-o", "jsonpath={.metadata.uid}")
	jn := netns.NewDir("").Path(netns.Names{Cluster: s.name}.Pod("default", "jn", uid))
	if out := runNs(t, jn, "ip", "-o", "link", "show", "eth0"); !strings.Contains(out, " mtu 1450 ") {
		t.Errorf("jn's eth0, want mtu 1450:\n%s", out)
	}
	cl := s.must(t, "get", "pod", "cl", "-o", "jsonpath={.status.podIP}")
	var conn *net.UDPConn
	err := netns.Do(jn, func() error {
		c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP(cl), Port: 9})
		conn = c
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := setDontFragment(conn); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Write(make([]byte, 1423)); !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("1423 bytes with DF from jn: %v, want EMSGSIZE", err)
	}
	_ = conn.SetDeadline(time.Now().Add(3 * time.Second))
	_, err = conn.Write(make([]byte, 1422))
	if err == nil {
		_, err = conn.Read(make([]byte, 16))
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("1422 bytes with DF from jn to cl: %v, want cl's port unreachable (ECONNREFUSED)", err)
	}
	s.checkLargeBody(t, jn)
}

func setDontFragment(c *net.UDPConn) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO)
	}); err != nil {
		return err
	}
	return serr
}

// checkLargeBody serves 64 KiB from a listener in jn's namespace and
// fetches it from cl, across the overlay.
func (s *sandbox) checkLargeBody(t *testing.T, jn string) {
	var ln net.Listener
	if err := netns.Do(jn, func() (err error) {
		ln, err = net.Listen("tcp4", ":7070")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	body := strings.Repeat("x", 64<<10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }),
		ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	ip := s.must(t, "get", "pod", "jn", "-o", "jsonpath={.status.podIP}")
	out, err := s.kubectl("exec", "cl", "--", "sh", "-c", "wget -qO- -T 5 http://"+ip+":7070/ | wc -c")
	if err != nil || strings.TrimSpace(out) != "65536" {
		t.Errorf("64 KiB from jn to cl: %v %q", err, out)
	}
}

func runNs(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
