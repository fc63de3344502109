package netns

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NodeInterface is the interface that carries a sandboxed node's IP.
const NodeInterface = "eth0"

// SetupSandboxNode gives the namespace the calling process runs in the
// node's address on a dummy interface and a default route through it.
// The route leads nowhere: a sandbox has no way out of the machine, but
// Service IPs are routable, as kube-proxy needs.
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
	if err := h.LinkAdd(&netlink.Dummy{LinkAttrs: la}); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add %s: %w", NodeInterface, err)
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
	if err := h.RouteReplace(&netlink.Route{LinkIndex: link.Attrs().Index, Scope: netlink.SCOPE_LINK}); err != nil {
		return fmt.Errorf("default route: %w", err)
	}
	return nil
}
