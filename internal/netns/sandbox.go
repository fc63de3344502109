package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NodeInterface is the interface that carries a sandboxed node's IP; its
// veth peer, NodePeer, stays in the same namespace and leads nowhere.
const (
	NodeInterface = "eth0"
	NodePeer      = "eth0-end"
)

// SetupSandboxNode gives the namespace the calling process runs in the
// node's address and a default route through it. The interface is one end
// of a veth pair whose other end stays inside: a sandbox has no way out of
// the machine, but Service IPs are routable, as kube-proxy needs. (A
// dummy interface would do, but not every kernel has them.)
func SetupSandboxNode(nodeIP netip.Prefix) error {
	if err := loopbackUp(); err != nil {
		return err
	}
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	la := netlink.NewLinkAttrs()
	la.Name = NodeInterface
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: la, PeerName: NodePeer}); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s: %w", NodeInterface, err)
	}
	if peer, err := h.LinkByName(NodePeer); err == nil {
		_ = h.LinkSetUp(peer)
	}
	link, err := h.LinkByName(NodeInterface)
	if err != nil {
		return fmt.Errorf("find %s: %w", NodeInterface, err)
	}
	if err := h.AddrReplace(link, &netlink.Addr{IPNet: ipNet(nodeIP)}); err != nil {
		return fmt.Errorf("address %s: %w", NodeInterface, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("set %s up: %w", NodeInterface, err)
	}
	def := &net.IPNet{IP: net.IPv4zero, Mask: net.CIDRMask(0, 32)}
	if err := h.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Dst: def, Scope: netlink.SCOPE_LINK}); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	return nil
}
