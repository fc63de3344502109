package process

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/svcplane/svcplane/internal/netns"
)

// TestDialPortInPodNamespace dials a listener that exists only in a
// throwaway network namespace, and a port nothing listens on there.
func TestDialPortInPodNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	path := throwawayNetns(t)
	var ln net.Listener
	err := netns.Do(path, func() error {
		if err := setLoopbackUp(); err != nil {
			return err
		}
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		ln = l
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "from the pod")
			c.Close()
		}
	}()
	r := newTestRuntime(t, t.TempDir(), netns.NewFake(), NewFakeLauncher())
	r.pods["uid-1"] = &podEntry{rec: podRecord{UID: "uid-1", NetnsPath: path}, containers: map[string]*instance{}}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	c, err := r.DialPort(context.Background(), "uid-1", port)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(c); string(b) != "from the pod" {
		t.Errorf("read %q", b)
	}
	c.Close()
	_, err = r.DialPort(context.Background(), "uid-1", port+1)
	want := fmt.Sprintf("failed to execute portforward in network namespace %q: failed to connect to localhost:%d inside namespace \"uid-1\", IPv4: dial tcp4 127.0.0.1:%d: connect: connection refused IPv6 dial tcp6 [::1]:%d: connect: connection refused ", path, port+1, port+1, port+1)
	if err == nil || err.Error() != want {
		t.Errorf("refused port:\n got %v\nwant %s", err, want)
	}
	if _, err := r.DialPort(context.Background(), "other", port); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown pod: %v", err)
	}
}

func throwawayNetns(t *testing.T) string {
	t.Helper()
	dir := netns.NewDir(t.TempDir())
	name := fmt.Sprintf("sp-ut%d-pf", os.Getpid())
	t.Cleanup(func() { _ = unix.Unmount(dir.Root, unix.MNT_DETACH) })
	t.Cleanup(func() {
		if err := dir.Delete(name); err != nil {
			t.Error(err)
		}
	})
	path, err := dir.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func setLoopbackUp() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	return netlink.LinkSetUp(lo)
}
