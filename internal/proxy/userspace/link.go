package userspace

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
)

// link is the dummy interface holding the Service addresses, reached
// through netlink in the network namespace of the process.
type link struct {
	name string
	fam  int // netlink.FAMILY_V4 or FAMILY_V6
	h    *netlink.Handle
	dev  netlink.Link
}

func newLink(name string, fam corev1.IPFamily) *link {
	l := &link{name: name, fam: netlink.FAMILY_V4}
	if fam == corev1.IPv6Protocol {
		l.fam = netlink.FAMILY_V6
	}
	return l
}

func (l *link) handle() (*netlink.Handle, error) {
	if l.h == nil {
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return nil, fmt.Errorf("netlink: %w", err)
		}
		l.h = h
	}
	return l.h, nil
}

// ensure makes the interface exist and be up.
func (l *link) ensure() error {
	h, err := l.handle()
	if err != nil {
		return err
	}
	dev, err := h.LinkByName(l.name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		if err := l.create(h); err != nil {
			return err
		}
		dev, err = h.LinkByName(l.name)
	}
	if err != nil {
		return fmt.Errorf("interface %s: %w", l.name, err)
	}
	if dev.Attrs().Flags&net.FlagUp == 0 {
		if err := h.LinkSetUp(dev); err != nil {
			return fmt.Errorf("set %s up: %w", l.name, err)
		}
	}
	l.dev = dev
	return nil
}

// create adds the interface: a dummy, or a bridge without ports where
// the kernel has no dummy driver (both hold local addresses alike).
func (l *link) create(h *netlink.Handle) error {
	attrs := netlink.LinkAttrs{Name: l.name}
	err := h.LinkAdd(&netlink.Dummy{LinkAttrs: attrs})
	if err != nil && !errors.Is(err, unix.EEXIST) {
		err = h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
	}
	if err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("add interface %s (dummy or bridge): %w", l.name, err)
	}
	return nil
}

func (l *link) exists() bool {
	h, err := l.handle()
	if err != nil {
		return true
	}
	_, err = h.LinkByName(l.name)
	return !errors.As(err, new(netlink.LinkNotFoundError))
}

func (l *link) addr(a netip.Addr) *netlink.Addr {
	bits := a.BitLen()
	na := &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(bits, bits)}}
	if a.Is6() {
		na.Flags = unix.IFA_F_NODAD
	}
	return na
}

// add binds a to the interface (as a /32 or /128).
func (l *link) add(a netip.Addr) error {
	if err := l.h.AddrReplace(l.dev, l.addr(a)); err != nil {
		return fmt.Errorf("add %s to %s: %w", a, l.name, err)
	}
	return nil
}

// del unbinds a.
func (l *link) del(a netip.Addr) error {
	if err := l.h.AddrDel(l.dev, l.addr(a)); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
		return fmt.Errorf("delete %s from %s: %w", a, l.name, err)
	}
	return nil
}

// list returns the family's addresses on the interface, without
// link-local ones.
func (l *link) list() ([]netip.Addr, error) {
	addrs, err := l.h.AddrList(l.dev, l.fam)
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", l.name, err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && !ip.Unmap().IsLinkLocalUnicast() {
			out = append(out, ip.Unmap())
		}
	}
	return out, nil
}

// reconcile makes the interface hold exactly the addresses of want.
func (l *link) reconcile(want map[netip.Addr]int) error {
	have, err := l.list()
	if err != nil {
		return err
	}
	var errs []error
	held := make(map[netip.Addr]bool, len(have))
	for _, a := range have {
		held[a] = true
		if want[a] == 0 {
			errs = append(errs, l.del(a))
		}
	}
	for a := range want {
		if !held[a] {
			errs = append(errs, l.add(a))
		}
	}
	return errors.Join(errs...)
}

// remove deletes the family's addresses, and the interface when no
// address of either family is left.
func (l *link) remove() error {
	h, err := l.handle()
	if err != nil {
		return err
	}
	dev, err := h.LinkByName(l.name)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil
	}
	if err != nil {
		return err
	}
	l.dev = dev
	addrs, err := h.AddrList(dev, netlink.FAMILY_ALL)
	if err != nil {
		return err
	}
	for _, a := range addrs {
		if a.IP.IsLinkLocalUnicast() || (a.IP.To4() != nil) == (l.fam == netlink.FAMILY_V4) {
			continue
		}
		// The other family's backend still uses the interface.
		return l.reconcile(nil)
	}
	if err := h.LinkDel(dev); err != nil {
		return fmt.Errorf("delete interface %s: %w", l.name, err)
	}
	l.dev = nil
	return nil
}
