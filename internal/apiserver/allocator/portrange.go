package allocator

import (
	"fmt"

	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// DefaultNodePortRange is kube-apiserver's --service-node-port-range default.
const DefaultNodePortRange = "30000-32767"

// PortRange allocates node ports from an inclusive range. The range is split
// KEP-3668's way: the lower min(max(16, n/32), 128) ports (none when n <= 16)
// form the static band that AllocateNext only uses when the rest is full;
// for 30000-32767 that is 30000-30085.
type PortRange struct {
	base int
	bits *bitmap
}

var _ PortAllocator = (*PortRange)(nil)

// NewPortRange returns an empty allocator over the size ports starting at
// base. All of them must be valid port numbers (1-65535).
func NewPortRange(base, size int) (*PortRange, error) {
	if size < 1 {
		return nil, fmt.Errorf("invalid port range: size %d is not positive", size)
	}
	if base < 1 || base+size-1 > 65535 {
		return nil, fmt.Errorf("invalid port range %d-%d: ports must be between 1 and 65535", base, base+size-1)
	}
	return &PortRange{base: base, bits: newBitmap(size, staticBand(size, 16, 32, 128))}, nil
}

// ParsePortRange returns an empty allocator over a range written the way
// --service-node-port-range takes it: "30000-32767", "30000+2767" or a
// single port.
func ParsePortRange(s string) (*PortRange, error) {
	pr, err := utilnet.ParsePortRange(s)
	if err != nil {
		return nil, fmt.Errorf("invalid port range %q: %w", s, err)
	}
	if pr.Size == 0 {
		return nil, fmt.Errorf("invalid port range %q: empty", s)
	}
	return NewPortRange(pr.Base, pr.Size)
}

// String returns the range as "30000-32767".
func (r *PortRange) String() string {
	return fmt.Sprintf("%d-%d", r.base, r.base+r.bits.size-1)
}

// Base and Size describe the range.
func (r *PortRange) Base() int { return r.base }

// Size is the number of ports in the range.
func (r *PortRange) Size() int { return r.bits.size }

// Allocate reserves port.
func (r *PortRange) Allocate(port int) error {
	if !r.contains(port) {
		return &ErrPortNotInRange{ValidPorts: r.String()}
	}
	if !r.bits.allocate(port - r.base) {
		return ErrPortAllocated
	}
	return nil
}

// AllocateNext reserves a free port, from the dynamic band first.
func (r *PortRange) AllocateNext() (int, error) {
	off, ok := r.bits.allocateNext()
	if !ok {
		return 0, ErrFull
	}
	return r.base + off, nil
}

// Release frees port; a no-op for a free port or one outside the range.
func (r *PortRange) Release(port int) error {
	if r.contains(port) {
		r.bits.release(port - r.base)
	}
	return nil
}

// Has reports whether port is reserved.
func (r *PortRange) Has(port int) bool {
	return r.contains(port) && r.bits.has(port-r.base)
}

// ForEach calls fn for each reserved port, in increasing order.
func (r *PortRange) ForEach(fn func(int)) {
	for _, off := range r.bits.offsets() {
		fn(r.base + off)
	}
}

// Used counts the reserved ports.
func (r *PortRange) Used() int { return r.bits.used() }

// Free counts the ports left.
func (r *PortRange) Free() int { return r.bits.size - r.bits.used() }

// DryRun returns an independent copy of the range and its reservations.
func (r *PortRange) DryRun() PortAllocator {
	return &PortRange{base: r.base, bits: r.bits.clone()}
}

// Snapshot returns the range and the reservations encoded as upstream's
// RangeAllocation (range, data).
func (r *PortRange) Snapshot() (string, []byte) {
	return r.String(), r.bits.snapshot()
}

// Restore replaces the reservations with a Snapshot of the same range;
// ErrMismatchedPortRange if the range differs.
func (r *PortRange) Restore(portRange string, data []byte) error {
	if portRange != r.String() {
		return ErrMismatchedPortRange
	}
	return r.bits.restore(data)
}

func (r *PortRange) contains(port int) bool {
	return port >= r.base && port-r.base < r.bits.size
}
