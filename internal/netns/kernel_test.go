package netns

import (
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelNamespacesAndVeth runs the real implementation in throwaway
// namespaces: a node namespace holding the bridge, a pod namespace joined
// to it, and a ping between them inside the node namespace.
func TestKernelNamespacesAndVeth(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	dir := NewDir(t.TempDir())
	prefix := fmt.Sprintf("sp-ut%d-", os.Getpid())
	t.Cleanup(func() { _ = unix.Unmount(dir.Root, unix.MNT_DETACH) })
	t.Cleanup(func() {
		if _, err := Sweep(dir, prefix); err != nil {
			t.Error(err)
		}
	})
	node, err := dir.Create(prefix + "node")
	if err != nil {
		t.Fatal(err)
	}
	pod, err := dir.Create(prefix + "pod")
	if err != nil {
		t.Fatal(err)
	}
	// The Network acts on the namespace it runs in: Do runs it in the
	// node namespace.
	br := Bridge{Name: BridgeName, Gateway: netip.MustParsePrefix("10.244.9.1/24")}
	if err := Do(node, func() error { return Netlink{}.EnsureBridge(br) }); err != nil {
		t.Fatal(err)
	}
	link := PodLink{NetnsPath: pod, HostVeth: "vethtest", Bridge: BridgeName,
		Address: netip.MustParsePrefix("10.244.9.2/24"), Gateway: netip.MustParseAddr("10.244.9.1"), MTU: 1450}
	if err := Do(node, func() error { return Netlink{}.AttachPod(link) }); err != nil {
		t.Fatal(err)
	}
	if out := runIn(t, pod, "ip", "route"); !strings.Contains(out, "default via 10.244.9.1") {
		t.Fatalf("pod routes:\n%s", out)
	}
	if out := runIn(t, pod, "ip", "-o", "link", "show", "eth0") + runIn(t, node, "ip", "-o", "link", "show", "vethtest"); strings.Count(out, "mtu 1450 ") != 2 {
		t.Errorf("both sides of the pair should have MTU 1450:\n%s", out)
	}
	runIn(t, node, "busybox", "ping", "-c1", "-W2", "10.244.9.2")
	if err := Do(node, func() error { return Netlink{}.DetachPod("vethtest") }); err != nil {
		t.Fatal(err)
	}
	if out := runIn(t, pod, "ip", "-o", "link"); strings.Contains(out, "eth0") {
		t.Fatalf("eth0 left after detach:\n%s", out)
	}
}

func runIn(t *testing.T, ns string, args ...string) string {
	t.Helper()
	out, err := exec.Command("nsenter", append([]string{"--net=" + ns}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
