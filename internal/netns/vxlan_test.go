package netns

import (
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestKernelVXLAN joins two throwaway nodes on a fabric with no route
// between their pod addresses but a VXLAN device each: a ping between the
// pod addresses crosses the overlay (the devices' counters grow); the
// device is reused when it matches; removing the peers removes every
// route, neighbour and forwarding entry, and DeleteLink the device.
func TestKernelVXLAN(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	dir := NewDir(t.TempDir())
	prefix := fmt.Sprintf("sp-uv%d-", os.Getpid())
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
	type node struct{ ip, vtep, pod, path string }
	nodes := map[string]*node{"a": {ip: "10.240.8.2", vtep: "10.244.1.0", pod: "10.244.1.1"}, "b": {ip: "10.240.8.3", vtep: "10.244.2.0", pod: "10.244.2.1"}}
	peers := map[string]OverlayPeer{}
	for name, n := range nodes {
		if n.path, err = dir.Create(prefix + name); err != nil {
			t.Fatal(err)
		}
		if err := ConnectFabric(fabric, n.path, name); err != nil {
			t.Fatal(err)
		}
		if err := Do(n.path, func() error { return SetupSandboxNode(netip.MustParsePrefix(n.ip + "/24")) }); err != nil {
			t.Fatal(err)
		}
		runIn(t, n.path, "ip", "addr", "add", n.pod+"/32", "dev", "lo") // a pod's address
		if mtu, err := OverlayMTU(n.path, netip.MustParseAddr(n.ip)); err != nil || mtu != 1450 {
			t.Errorf("OverlayMTU = %d, %v; want 1450 over a 1500 link", mtu, err)
		}
		v := VXLAN{Name: "svcplane.1", VNI: 1, Port: 8472, Local: netip.MustParseAddr(n.ip), VTEP: netip.MustParseAddr(n.vtep)}
		mac, err := EnsureVXLAN(n.path, v)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := EnsureVXLAN(n.path, v); err != nil || again.String() != mac.String() {
			t.Fatalf("device not reused: %v, MAC %s then %s", err, mac, again)
		}
		peers[name] = OverlayPeer{CIDR: netip.MustParsePrefix(n.vtep + "/24"), VTEP: netip.MustParseAddr(n.vtep), MAC: mac, Remote: netip.MustParseAddr(n.ip)}
	}
	for name, other := range map[string]string{"a": "b", "b": "a"} {
		if err := SetOverlayPeers(nodes[name].path, "svcplane.1", []OverlayPeer{peers[other]}); err != nil {
			t.Fatal(err)
		}
	}
	before, err := ReadLinkStats(nodes["a"].path, "svcplane.1")
	if err != nil {
		t.Fatal(err)
	}
	runIn(t, nodes["a"].path, "busybox", "ping", "-c2", "-W2", "-I", nodes["a"].pod, nodes["b"].pod)
	after, _ := ReadLinkStats(nodes["a"].path, "svcplane.1")
	if after.TxPackets < before.TxPackets+2 || after.RxPackets < before.RxPackets+2 {
		t.Errorf("counters of a's device: %+v then %+v", before, after)
	}
	out := runIn(t, nodes["a"].path, "ip", "route", "show", "dev", "svcplane.1")
	if !strings.Contains(out, "10.244.2.0/24 via 10.244.2.0 onlink") {
		t.Errorf("routes of a's device:\n%s", out)
	}
	if err := SetOverlayPeers(nodes["a"].path, "svcplane.1", nil); err != nil {
		t.Fatal(err)
	}
	left := runIn(t, nodes["a"].path, "ip", "route", "show", "dev", "svcplane.1") +
		runIn(t, nodes["a"].path, "ip", "neigh", "show", "dev", "svcplane.1", "nud", "permanent") +
		runIn(t, nodes["a"].path, "bridge", "fdb", "show", "dev", "svcplane.1")
	if strings.Contains(left, "10.244.2.0") || strings.Contains(left, nodes["b"].ip) {
		t.Errorf("left after the peer went:\n%s", left)
	}
	if err := DeleteLink(nodes["a"].path, "svcplane.1"); err != nil {
		t.Fatal(err)
	}
	if err := DeleteLink(nodes["a"].path, "svcplane.1"); err != nil {
		t.Errorf("deleting a missing link: %v", err)
	}
}
