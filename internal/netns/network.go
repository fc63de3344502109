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

// Network plumbs a node's namespace: its bridge and the veth pairs of its
// pods.
type Network interface {
	// EnsureBridge creates the bridge (if missing), gives it the gateway
	// address (e.g. 10.244.1.1/24) and sets it up.
	EnsureBridge(b Bridge) error
	// AttachPod joins a pod's namespace to the bridge: a veth pair whose
	// pod side is PodInterface with the pod's address and a default route
	// via the gateway. It replaces an earlier attachment of the same veth.
	AttachPod(p PodLink) error
	// DetachPod removes a pod's veth pair; a missing one is not an error.
	DetachPod(hostVeth string) error
}

// Bridge is the node bridge.
type Bridge struct {
	Name    string
	Gateway netip.Prefix
}

// PodLink is one pod's connection to the bridge.
type PodLink struct {
	// NetnsPath is the pod's namespace file.
	NetnsPath string
	// HostVeth names the node side of the pair; Bridge the bridge.
	HostVeth string
	Bridge   string
	// Address is the pod's IP with the pod CIDR's length; Gateway the
	// bridge's address.
	Address netip.Prefix
	Gateway netip.Addr
	// MTU of both sides; 0 keeps the kernel's (1500).
	MTU int
}

// Netlink is the Network of the namespace the process runs in.
type Netlink struct{}

var _ Network = (*Netlink)(nil)

// EnsureBridge creates and configures the bridge.
func (Netlink) EnsureBridge(b Bridge) error {
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	br, err := h.LinkByName(b.Name)
	if err != nil {
		la := netlink.NewLinkAttrs()
		la.Name = b.Name
		if err := h.LinkAdd(&netlink.Bridge{LinkAttrs: la}); err != nil && !errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("add bridge %s: %w", b.Name, err)
		}
		if br, err = h.LinkByName(b.Name); err != nil {
			return fmt.Errorf("find bridge %s: %w", b.Name, err)
		}
	}
	if err := h.AddrReplace(br, &netlink.Addr{IPNet: ipNet(b.Gateway)}); err != nil {
		return fmt.Errorf("address bridge %s: %w", b.Name, err)
	}
	if err := h.LinkSetUp(br); err != nil {
		return fmt.Errorf("set bridge %s up: %w", b.Name, err)
	}
	return nil
}

// AttachPod creates the veth pair with its pod side in the pod's
// namespace and configures both sides.
func (n Netlink) AttachPod(p PodLink) error {
	if err := n.DetachPod(p.HostVeth); err != nil {
		return err
	}
	podNs, err := vnetns.GetFromPath(p.NetnsPath)
	if err != nil {
		return fmt.Errorf("open netns %s: %w", p.NetnsPath, err)
	}
	defer podNs.Close()
	if err := addHostVeth(p, podNs); err != nil {
		return err
	}
	if err := configurePodSide(p, podNs); err != nil {
		return fmt.Errorf("configure pod side of %s: %w", p.HostVeth, err)
	}
	return nil
}

func addHostVeth(p PodLink, podNs vnetns.NsHandle) error {
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	br, err := h.LinkByName(p.Bridge)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", p.Bridge, err)
	}
	la := netlink.NewLinkAttrs()
	la.Name = p.HostVeth
	la.MasterIndex = br.Attrs().Index
	la.MTU = p.MTU
	veth := &netlink.Veth{LinkAttrs: la, PeerName: PodInterface, PeerNamespace: netlink.NsFd(podNs)}
	if err := h.LinkAdd(veth); err != nil {
		return fmt.Errorf("add veth %s: %w", p.HostVeth, err)
	}
	// Hairpin mode lets a pod reach itself through a Service: the packet
	// DNATed back to it leaves the bridge by the port it came in on
	// (kubelet's hairpin-veth mode).
	if err := h.LinkSetHairpin(veth, true); err != nil {
		return fmt.Errorf("set hairpin mode on %s: %w", p.HostVeth, err)
	}
	if err := h.LinkSetUp(veth); err != nil {
		return fmt.Errorf("set %s up: %w", p.HostVeth, err)
	}
	return nil
}

func configurePodSide(p PodLink, podNs vnetns.NsHandle) error {
	h, err := netlink.NewHandleAt(podNs)
	if err != nil {
		return err
	}
	defer h.Close()
	for _, name := range []string{"lo", PodInterface} {
		l, err := h.LinkByName(name)
		if err != nil {
			return err
		}
		if name == PodInterface {
			if err := h.AddrReplace(l, &netlink.Addr{IPNet: ipNet(p.Address)}); err != nil {
				return err
			}
		}
		if err := h.LinkSetUp(l); err != nil {
			return err
		}
	}
	gw := net.IP(p.Gateway.AsSlice())
	return h.RouteReplace(&netlink.Route{Dst: nil, Gw: gw})
}

// DetachPod deletes the veth pair, which removes both sides.
func (Netlink) DetachPod(hostVeth string) error {
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	l, err := h.LinkByName(hostVeth)
	var nf netlink.LinkNotFoundError
	if errors.As(err, &nf) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", hostVeth, err)
	}
	if err := h.LinkDel(l); err != nil {
		return fmt.Errorf("delete %s: %w", hostVeth, err)
	}
	return nil
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// loopbackUp sets lo up in the namespace of the calling thread.
func loopbackUp() error {
	h, err := netlink.NewHandle()
	if err != nil {
		return fmt.Errorf("netlink: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}
