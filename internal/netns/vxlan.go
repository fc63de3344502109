package netns

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// VXLAN is a node's VXLAN device as flannel's vxlan backend makes it: VNI
// and UDP port, its source address (the node's address) on the uplink
// that holds it, and its address (the VTEP address: the node's pod CIDR's
// network address, /32).
type VXLAN struct {
	Name  string
	VNI   int
	Port  int
	Local netip.Addr
	VTEP  netip.Addr
	// MAC is the device's address when it is created (a random one if
	// nil), so a node that restarts keeps the one its peers know.
	MAC net.HardwareAddr
}

// OverlayPeer is what a node keeps for another node reached through its
// VXLAN device: a permanent neighbour (VTEP -> MAC), a forwarding entry
// (MAC -> Remote, the peer's address on the underlay) and a route to the
// peer's pod CIDR via its VTEP address, on link.
type OverlayPeer struct {
	CIDR   netip.Prefix
	VTEP   netip.Addr
	MAC    net.HardwareAddr
	Remote netip.Addr
}

// vxlanOverhead is what VXLAN over IPv4 adds to a frame (flannel's 50).
const vxlanOverhead = 50

// OverlayMTU is the MTU of pods whose traffic to other machines rides a
// VXLAN device over the link holding local in the namespace at ns: the
// link's MTU less the encapsulation (1450 on a 1500 underlay, flannel's).
func OverlayMTU(ns string, local netip.Addr) (int, error) {
	h, err := handleAt(ns)
	if err != nil {
		return 0, err
	}
	defer h.Close()
	uplink, err := linkWithAddr(h, local)
	if err != nil {
		return 0, err
	}
	return uplink.Attrs().MTU - vxlanOverhead, nil
}

// EnsureVXLAN makes the VXLAN device v in the namespace at ns (reused when
// it matches, recreated when not), addressed and up, and returns its MAC.
func EnsureVXLAN(ns string, v VXLAN) (net.HardwareAddr, error) {
	h, err := handleAt(ns)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	uplink, err := linkWithAddr(h, v.Local)
	if err != nil {
		return nil, err
	}
	link, err := ensureVXLANLink(h, v, uplink)
	if err != nil {
		return nil, err
	}
	addr := &netlink.Addr{IPNet: ipNet(netip.PrefixFrom(v.VTEP, 32))}
	if err := h.AddrReplace(link, addr); err != nil {
		return nil, fmt.Errorf("address %s on %s: %w", v.VTEP, v.Name, err)
	}
	if err := h.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("set %s up: %w", v.Name, err)
	}
	return link.Attrs().HardwareAddr, nil
}

func ensureVXLANLink(h *netlink.Handle, v VXLAN, uplink netlink.Link) (netlink.Link, error) {
	la := netlink.NewLinkAttrs()
	la.Name, la.HardwareAddr, la.MTU = v.Name, v.MAC, uplink.Attrs().MTU-vxlanOverhead
	want := &netlink.Vxlan{LinkAttrs: la, VxlanId: v.VNI, VtepDevIndex: uplink.Attrs().Index,
		SrcAddr: net.IP(v.Local.AsSlice()), Port: v.Port}
	if old, err := h.LinkByName(v.Name); err == nil {
		if vxlanMatches(old, want) {
			return old, nil
		}
		if err := h.LinkDel(old); err != nil {
			return nil, fmt.Errorf("remove %s to recreate it: %w", v.Name, err)
		}
	}
	if err := h.LinkAdd(want); err != nil {
		return nil, fmt.Errorf("add %s: %w", v.Name, err)
	}
	link, err := h.LinkByName(v.Name)
	if err != nil {
		return nil, fmt.Errorf("find %s: %w", v.Name, err)
	}
	return link, nil
}

func vxlanMatches(old netlink.Link, want *netlink.Vxlan) bool {
	o, ok := old.(*netlink.Vxlan)
	return ok && o.VxlanId == want.VxlanId && o.Port == want.Port && o.VtepDevIndex == want.VtepDevIndex &&
		o.SrcAddr.Equal(want.SrcAddr) && (want.HardwareAddr == nil || bytes.Equal(o.HardwareAddr, want.HardwareAddr))
}

// linkWithAddr is the link that holds address a.
func linkWithAddr(h *netlink.Handle, a netip.Addr) (netlink.Link, error) {
	addrs, err := h.AddrList(nil, unix.AF_INET)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, ad := range addrs {
		if ip, ok := netip.AddrFromSlice(ad.IP); ok && ip.Unmap() == a {
			return h.LinkByIndex(ad.LinkIndex)
		}
	}
	return nil, fmt.Errorf("no interface has the address %s", a)
}

// SetOverlayPeers makes the neighbours, forwarding entries and routes of
// device dev in the namespace at ns be exactly those of peers: each
// peer's neighbour and forwarding entry first, its route last (so the
// kernel never resolves a VTEP itself), then what no peer wants removed.
func SetOverlayPeers(ns, dev string, peers []OverlayPeer) error {
	h, err := handleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(dev)
	if err != nil {
		return fmt.Errorf("find %s: %w", dev, err)
	}
	idx := link.Attrs().Index
	for _, p := range peers {
		if err := addOverlayPeer(h, idx, p); err != nil {
			return fmt.Errorf("peer %s: %w", p.CIDR, err)
		}
	}
	return pruneOverlay(h, link, peers)
}

func addOverlayPeer(h *netlink.Handle, idx int, p OverlayPeer) error {
	vtep := net.IP(p.VTEP.AsSlice())
	if err := h.NeighSet(&netlink.Neigh{LinkIndex: idx, State: netlink.NUD_PERMANENT, Type: unix.RTN_UNICAST,
		IP: vtep, HardwareAddr: p.MAC}); err != nil {
		return fmt.Errorf("neighbour %s: %w", p.VTEP, err)
	}
	if err := h.NeighSet(fdbEntry(idx, p.MAC, p.Remote)); err != nil {
		return fmt.Errorf("forwarding entry %s: %w", p.MAC, err)
	}
	route := &netlink.Route{LinkIndex: idx, Scope: netlink.SCOPE_UNIVERSE, Dst: ipNet(p.CIDR.Masked()), Gw: vtep, Flags: int(netlink.FLAG_ONLINK)}
	if err := h.RouteReplace(route); err != nil {
		return fmt.Errorf("route via %s: %w", p.VTEP, err)
	}
	return nil
}

func fdbEntry(idx int, mac net.HardwareAddr, remote netip.Addr) *netlink.Neigh {
	return &netlink.Neigh{LinkIndex: idx, Family: unix.AF_BRIDGE, State: netlink.NUD_PERMANENT, Flags: netlink.NTF_SELF,
		IP: net.IP(remote.AsSlice()), HardwareAddr: mac}
}

// pruneOverlay removes the routes, neighbours and forwarding entries on
// link that no peer wants: routes first, so none points at a VTEP whose
// neighbour is gone.
func pruneOverlay(h *netlink.Handle, link netlink.Link, peers []OverlayPeer) error {
	cidrs, vteps, macs := map[netip.Prefix]bool{}, map[netip.Addr]bool{}, map[string]netip.Addr{}
	for _, p := range peers {
		cidrs[p.CIDR.Masked()], vteps[p.VTEP] = true, true
		macs[p.MAC.String()] = p.Remote
	}
	routes, err := h.RouteList(link, unix.AF_INET)
	if err != nil {
		return fmt.Errorf("list routes: %w", err)
	}
	var errs []error
	for _, r := range routes {
		if r.Gw == nil || r.Dst == nil || cidrs[prefixOf(r.Dst)] {
			continue
		}
		if err := h.RouteDel(&r); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("remove route %s: %w", r.Dst, err))
		}
	}
	errs = append(errs, pruneNeighbours(h, link.Attrs().Index, vteps, macs)...)
	return errors.Join(errs...)
}

func pruneNeighbours(h *netlink.Handle, idx int, vteps map[netip.Addr]bool, macs map[string]netip.Addr) []error {
	var errs []error
	neighs, err := h.NeighList(idx, unix.AF_INET)
	if err != nil {
		return []error{fmt.Errorf("list neighbours: %w", err)}
	}
	for _, n := range neighs {
		if ip, ok := netip.AddrFromSlice(n.IP); ok && !vteps[ip.Unmap()] && n.State&netlink.NUD_PERMANENT != 0 {
			if err := h.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, fmt.Errorf("remove neighbour %s: %w", n.IP, err))
			}
		}
	}
	fdb, err := h.NeighList(idx, unix.AF_BRIDGE)
	if err != nil {
		return append(errs, fmt.Errorf("list forwarding entries: %w", err))
	}
	for _, n := range fdb {
		remote, ok := netip.AddrFromSlice(n.IP)
		if want, kept := macs[n.HardwareAddr.String()]; kept && ok && remote.Unmap() == want {
			continue
		}
		if err := h.NeighDel(&n); err != nil && !errors.Is(err, unix.ENOENT) {
			errs = append(errs, fmt.Errorf("remove forwarding entry %s: %w", n.HardwareAddr, err))
		}
	}
	return errs
}

func prefixOf(n *net.IPNet) netip.Prefix {
	ip, _ := netip.AddrFromSlice(n.IP)
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones)
}

// DeleteLink removes the link name from the namespace at ns; a link that
// is not there is no error.
func DeleteLink(ns, name string) error {
	h, err := handleAt(ns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("find %s: %w", name, err)
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// LinkStats are a link's packet counters, as the kernel keeps them.
type LinkStats struct {
	RxPackets, TxPackets uint64
}

// ReadLinkStats reads the counters of link name in the namespace at ns.
func ReadLinkStats(ns, name string) (LinkStats, error) {
	h, err := handleAt(ns)
	if err != nil {
		return LinkStats{}, err
	}
	defer h.Close()
	link, err := h.LinkByName(name)
	if err != nil {
		return LinkStats{}, fmt.Errorf("find %s: %w", name, err)
	}
	s := link.Attrs().Statistics
	if s == nil {
		return LinkStats{}, fmt.Errorf("%s has no statistics", name)
	}
	return LinkStats{RxPackets: s.RxPackets, TxPackets: s.TxPackets}, nil
}
