// Package conntrack deletes conntrack entries through netlink, in the
// network namespace the process runs in, for the proxy's stale UDP flow
// cleanup.
package conntrack

import (
	"context"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// Netlink deletes entries with the kernel's conntrack netlink interface.
type Netlink struct{}

var _ proxy.Conntrack = Netlink{}

// Delete removes the entries that match f.
func (Netlink) Delete(_ context.Context, f proxy.Flow) (int, error) {
	filter, family, err := Filter(f)
	if err != nil {
		return 0, err
	}
	n, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, family, filter)
	if err != nil {
		return int(n), fmt.Errorf("conntrack delete %+v: %w", f, err)
	}
	return int(n), nil
}

// Filter turns a flow selector into a netlink filter and its family.
func Filter(f proxy.Flow) (*netlink.ConntrackFilter, netlink.InetFamily, error) {
	filter := &netlink.ConntrackFilter{}
	proto, ok := protocols[f.Protocol]
	if !ok {
		return nil, 0, fmt.Errorf("conntrack: unsupported protocol %q", f.Protocol)
	}
	family := netlink.InetFamily(netlink.FAMILY_V4)
	if err := filter.AddProtocol(proto); err != nil {
		return nil, 0, err
	}
	if f.OrigDst.IsValid() {
		if f.OrigDst.Is6() {
			family = netlink.FAMILY_V6
		}
		if err := filter.AddIP(netlink.ConntrackOrigDstIP, net.IP(f.OrigDst.AsSlice())); err != nil {
			return nil, 0, err
		}
	}
	if f.DstPort != 0 {
		if err := filter.AddPort(netlink.ConntrackOrigDstPort, uint16(f.DstPort)); err != nil {
			return nil, 0, err
		}
	}
	if f.ReplySrc.IsValid() {
		if f.ReplySrc.Is6() {
			family = netlink.FAMILY_V6
		}
		if err := filter.AddIP(netlink.ConntrackReplySrcIP, net.IP(f.ReplySrc.AsSlice())); err != nil {
			return nil, 0, err
		}
	}
	return filter, family, nil
}

var protocols = map[corev1.Protocol]uint8{
	corev1.ProtocolTCP:  6,
	corev1.ProtocolUDP:  17,
	corev1.ProtocolSCTP: 132,
}
