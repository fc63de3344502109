package allocator

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	v1 "k8s.io/api/core/v1"
)

const (
	// MaxServiceCIDRBits is the most host bits a service CIDR may have
	// (kube-apiserver's limit: /12 for IPv4, /108 for IPv6).
	MaxServiceCIDRBits = 20
	// minRangeSize is the fewest addresses a service CIDR may have.
	minRangeSize = 8
	// maxIPv6Entries caps the bitmap of an IPv6 range, as upstream does:
	// addresses past the first 65535 usable ones are never allocated.
	maxIPv6Entries = 1 << 16
)

// IPRange allocates the cluster IPs of one service CIDR. The network address
// is never allocated, nor the broadcast address of an IPv4 range. The range
// is split KEP-3070's way: the lower min(max(16, n/16), 256) addresses (n the
// CIDR's size; none when n <= 16) form the static band that AllocateNext
// only uses when the rest is full.
type IPRange struct {
	prefix netip.Prefix
	first  netip.Addr // network address + 1, offset 0 of the bitmap
	bits   *bitmap
}

var _ IPAllocator = (*IPRange)(nil)

// NewIPRange returns an empty allocator over cidr. The CIDR must have at
// least 8 addresses and at most MaxServiceCIDRBits host bits.
func NewIPRange(cidr netip.Prefix) (*IPRange, error) {
	if !cidr.IsValid() {
		return nil, fmt.Errorf("invalid service CIDR %q", cidr)
	}
	cidr = cidr.Masked()
	addrBits := cidr.Addr().BitLen()
	hostBits := addrBits - cidr.Bits()
	if hostBits > MaxServiceCIDRBits {
		return nil, fmt.Errorf("service CIDR %s is too large; for %d-bit addresses, the mask must be >= %d",
			cidr, addrBits, addrBits-MaxServiceCIDRBits)
	}
	if 1<<hostBits < minRangeSize {
		return nil, fmt.Errorf("service CIDR %s is too small; the service cluster IP range must be at least %d IP addresses",
			cidr, minRangeSize)
	}
	n := 1 << hostBits
	return &IPRange{
		prefix: cidr,
		first:  cidr.Addr().Next(),
		bits:   newBitmap(usableAddresses(cidr, n), staticBand(n, 16, 16, 256)),
	}, nil
}

// usableAddresses is the bitmap size for a CIDR of n addresses: all but the
// network address, and the broadcast for IPv4; at most 65535 for IPv6.
func usableAddresses(cidr netip.Prefix, n int) int {
	if cidr.Addr().Is4() {
		return n - 2
	}
	return min(n, maxIPv6Entries) - 1
}

// CIDR returns the range's network.
func (r *IPRange) CIDR() netip.Prefix { return r.prefix }

// String returns the CIDR, e.g. "10.96.0.0/12".
func (r *IPRange) String() string { return r.prefix.String() }

// FirstAddress returns the first usable address (10.96.0.1 for
// 10.96.0.0/12): the `kubernetes` Service's cluster IP.
func (r *IPRange) FirstAddress() netip.Addr { return r.first }

// Family returns IPv4 or IPv6.
func (r *IPRange) Family() v1.IPFamily {
	if r.prefix.Addr().Is4() {
		return v1.IPv4Protocol
	}
	return v1.IPv6Protocol
}

// Allocate reserves ip.
func (r *IPRange) Allocate(ip netip.Addr) error {
	off, ok := r.offset(ip)
	if !ok {
		return &ErrNotInRange{IP: ip, ValidRange: r.prefix.String()}
	}
	if !r.bits.allocate(off) {
		return ErrAllocated
	}
	return nil
}

// AllocateNext reserves a free address, from the dynamic band first.
func (r *IPRange) AllocateNext() (netip.Addr, error) {
	off, ok := r.bits.allocateNext()
	if !ok {
		return netip.Addr{}, ErrFull
	}
	return r.addr(off), nil
}

// Release frees ip; a no-op for a free address or one outside the range.
func (r *IPRange) Release(ip netip.Addr) error {
	if off, ok := r.offset(ip); ok {
		r.bits.release(off)
	}
	return nil
}

// Has reports whether ip is reserved.
func (r *IPRange) Has(ip netip.Addr) bool {
	off, ok := r.offset(ip)
	return ok && r.bits.has(off)
}

// ForEach calls fn for each reserved address, in increasing order.
func (r *IPRange) ForEach(fn func(netip.Addr)) {
	for _, off := range r.bits.offsets() {
		fn(r.addr(off))
	}
}

// Used counts the reserved addresses.
func (r *IPRange) Used() int { return r.bits.used() }

// Free counts the addresses left.
func (r *IPRange) Free() int { return r.bits.size - r.bits.used() }

// DryRun returns an independent copy of the range and its reservations.
func (r *IPRange) DryRun() IPAllocator {
	return &IPRange{prefix: r.prefix, first: r.first, bits: r.bits.clone()}
}

// Snapshot returns the CIDR and the reservations encoded as upstream's
// RangeAllocation (range, data).
func (r *IPRange) Snapshot() (string, []byte) {
	return r.prefix.String(), r.bits.snapshot()
}

// Restore replaces the reservations with a Snapshot of the same CIDR;
// ErrMismatchedNetwork if the CIDR differs.
func (r *IPRange) Restore(cidr string, data []byte) error {
	if cidr != r.prefix.String() {
		return ErrMismatchedNetwork
	}
	return r.bits.restore(data)
}

// offset returns ip's bitmap offset, false if ip is not a usable address.
// With at most 20 host bits, ip and r.first differ only in their last 32
// bits, for both families.
func (r *IPRange) offset(ip netip.Addr) (int, bool) {
	if r.prefix.Addr().Is4() {
		ip = ip.Unmap()
	}
	if !r.prefix.Contains(ip) {
		return 0, false
	}
	off := int(low32(ip)) - int(low32(r.first))
	return off, off >= 0 && off < r.bits.size
}

// addr returns the address at bitmap offset off.
func (r *IPRange) addr(off int) netip.Addr {
	a := r.first.As16()
	binary.BigEndian.PutUint32(a[12:], low32(r.first)+uint32(off))
	ip := netip.AddrFrom16(a)
	if r.first.Is4() {
		return ip.Unmap()
	}
	return ip
}

func low32(ip netip.Addr) uint32 {
	a := ip.As16()
	return binary.BigEndian.Uint32(a[12:])
}
