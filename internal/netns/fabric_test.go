package netns

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelFabric joins two throwaway node namespaces through a fabric
// namespace: each node's eth0 reaches the other's; pod routes through the
// other node are set, replaced and removed; connecting again changes
// nothing.
func TestKernelFabric(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	dir := NewDir(t.TempDir())
	prefix := fmt.Sprintf("sp-uf%d-", os.Getpid())
	t.Cleanup(func() { _ = unix.Unmount(dir.Root, unix.MNT_DETACH) })
	t.Cleanup(func() {
		if _, err := Sweep(dir, prefix); err != nil {
			t.Error(err)
		}
	})
	fabric, err := dir.Create(prefix + "fabric")
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]string{"a": "10.240.7.2/24", "b": "10.240.7.3/24"}
	paths := map[string]string{}
	for name, ip := range nodes {
		p, err := dir.Create(prefix + name)
		if err != nil {
			t.Fatal(err)
		}
		paths[name] = p
		for range 2 { // idempotent
			if err := ConnectFabric(fabric, p, name); err != nil {
				t.Fatal(err)
			}
		}
		if err := Do(p, func() error { return SetupSandboxNode(netip.MustParsePrefix(ip)) }); err != nil {
			t.Fatal(err)
		}
	}
	runIn(t, paths["a"], "busybox", "ping", "-c1", "-W2", "10.240.7.3")
	if out := runIn(t, fabric, "ip", "-o", "link", "show", "master", FabricBridge); len(strings.Split(strings.TrimSpace(out), "\n")) != 2 {
		t.Fatalf("fabric ports:\n%s", out)
	}
	via := netip.MustParseAddr("10.240.7.3")
	routes := []PodRoute{{CIDR: netip.MustParsePrefix("10.244.1.0/24"), Via: via}, {CIDR: netip.MustParsePrefix("10.244.2.0/24"), Via: via}}
	if err := SetPodRoutes(paths["a"], routes); err != nil {
		t.Fatal(err)
	}
	if err := SetPodRoutes(paths["a"], routes[1:]); err != nil {
		t.Fatal(err)
	}
	out := runIn(t, paths["a"], "ip", "route")
	if strings.Contains(out, "10.244.1.0/24") || !strings.Contains(out, "10.244.2.0/24 via 10.240.7.3 dev eth0") {
		t.Fatalf("routes of node a:\n%s", out)
	}
}
