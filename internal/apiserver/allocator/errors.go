package allocator

import (
	"errors"
	"fmt"
	"net/netip"
)

// Errors of the allocators. Texts are kube-apiserver's (ipallocator and
// portallocator); test with errors.Is and errors.As.
var (
	// ErrFull: no free value is left (both kinds of range).
	ErrFull = errors.New("range is full")
	// ErrAllocated: the requested cluster IP is taken.
	ErrAllocated = errors.New("provided IP is already allocated")
	// ErrPortAllocated: the requested node port is taken.
	ErrPortAllocated = errors.New("provided port is already allocated")
	// ErrMismatchedNetwork: a snapshot was taken of another CIDR.
	ErrMismatchedNetwork = errors.New("the provided network does not match the current range")
	// ErrMismatchedPortRange: a snapshot was taken of another port range.
	ErrMismatchedPortRange = errors.New("the provided port range does not match the current port range")
)

// ErrNotInRange is returned for a requested IP outside the usable addresses
// of the range. ValidRange is the CIDR, as upstream reports it.
type ErrNotInRange struct {
	IP         netip.Addr
	ValidRange string
}

func (e *ErrNotInRange) Error() string {
	return fmt.Sprintf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s",
		e.IP, e.ValidRange)
}

// ErrPortNotInRange is returned for a requested port outside the range.
// ValidPorts is the range as "30000-32767".
type ErrPortNotInRange struct {
	ValidPorts string
}

func (e *ErrPortNotInRange) Error() string {
	return fmt.Sprintf("provided port is not in the valid range. The range of valid ports is %s", e.ValidPorts)
}

// IsNotInRange reports whether err says a requested IP or port is outside
// its range.
func IsNotInRange(err error) bool {
	var ip *ErrNotInRange
	var port *ErrPortNotInRange
	return errors.As(err, &ip) || errors.As(err, &port)
}

// IsAllocated reports whether err says a requested IP or port is taken.
func IsAllocated(err error) bool {
	return errors.Is(err, ErrAllocated) || errors.Is(err, ErrPortAllocated)
}
