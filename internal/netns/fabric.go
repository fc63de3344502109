package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// FabricBridge joins the nodes of a cluster of several sandboxed nodes on
// one machine: a bridge in the fabric namespace (Names.Fabric), one port
// per node, the node's end of each being its NodeInterface.
const FabricBridge = "spfab0"

// Fabric returns the name of the namespace joining a cluster's nodes.
func (n Names) Fabric() string { return n.Prefix() + "fabric" }

// FabricPort names a node's port on the fabric bridge (at most 15
// bytes): "fab" and a short hash of the node's name.
func FabricPort(node string) string { return "fab" + shortHash(node) }

// ConnectFabric makes the fabric's bridge in the namespace at fabric and
// connects the node namespace at node to it: a veth pair whose node end is
// NodeInterface (SetupSandboxNode addresses it) and whose other end,
// FabricPort(name), is a port of the bridge. It is idempotent.
func ConnectFabric(fabric, node, name string) error {
	fh, err := handleAt(fabric)
	if err != nil {
		return err
	}
	defer fh.Close()
	br, err := ensureFabricBridge(fh)
	if err != nil {
		return err
	}
	port := FabricPort(name)
	if _, err := fh.LinkByName(port); err == nil {
		return nil // connected already
	}
	nsh, err := vnetns.GetFromPath(node)
	if err != nil {
		return fmt.Errorf("open %s: %w", node, err)
	}
	defer nsh.Close()
	la := netlink.NewLinkAttrs()
	la.Name, la.MasterIndex = port, br.Attrs().Index
	veth := &netlink.Veth{LinkAttrs: la, PeerName: NodeInterface, PeerNamespace: netlink.NsFd(int(nsh))}
	if err := fh.LinkAdd(veth); err != nil {
		return fmt.Errorf("connect node %s to the fabric: %w", name, err)
	}
	link, err := fh.LinkByName(port)
	if err != nil {
		return fmt.Errorf("find %s: %w", port, err)
	}
	return fh.LinkSetUp(link)
}

func ensureFabricBridge(h *netlink.Handle) (netlink.Link, error) {
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		return nil, fmt.Errorf("fabric loopback: %w", err)
	}
	la := netlink.NewLinkAttrs()
	la.Name = FabricBridge
	if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("add %s: %w", FabricBridge, err)
	}
	br, err := h.LinkByName(FabricBridge)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", FabricBridge, err)
	}
	if err := h.LinkSetUp(br); err != nil {
		return nil, fmt.Errorf("set %s up: %w", FabricBridge, err)
	}
	return br, nil
}

// PodRoute is a route, in a node's namespace, to another node's pod CIDR
// through that node's address on the fabric (Flannel's host-gw).
type PodRoute struct {
	CIDR netip.Prefix
	Via  netip.Addr
}

// SetPodRoutes makes the pod routes of the node namespace at node be
// exactly want: missing ones are added, changed ones replaced, and routes
// through NodeInterface to a gateway that want no longer lists removed.
func SetPodRoutes(node string, want []PodRoute) error {
	h, err := handleAt(node)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(NodeInterface)
	if err != nil {
		return fmt.Errorf("find %s: %w", NodeInterface, err)
	}
	keep := map[netip.Prefix]bool{}
	for _, r := range want {
		keep[r.CIDR.Masked()] = true
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: ipNet(r.CIDR.Masked()), Gw: net.IP(r.Via.AsSlice())}
		if err := h.RouteReplace(route); err != nil {
			return fmt.Errorf("route %s via %s: %w", r.CIDR, r.Via, err)
		}
	}
	routes, err := h.RouteList(link, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		if r.Gw == nil || r.Dst == nil {
			continue
		}
		dst, ok := netip.AddrFromSlice(r.Dst.IP)
		ones, _ := r.Dst.Mask.Size()
		if !ok || keep[netip.PrefixFrom(dst.Unmap(), ones)] {
			continue
		}
		if err := h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			return fmt.Errorf("remove route %s: %w", r.Dst, err)
		}
	}
	return nil
}

func handleAt(path string) (*netlink.Handle, error) {
	ns, err := vnetns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("netlink in %s: %w", path, err)
	}
	return h, nil
}
