package allocator

import (
	"errors"
	"net/netip"
)

// Allocator hands out values of one kind from a fixed range: the cluster IPs
// of one service CIDR, or node ports. Implementations are safe for
// concurrent use and return this package's errors, so that the field errors
// built from them read the same whatever the implementation.
//
// The in-memory bitmaps (*IPRange, *PortRange) are one implementation; one
// etcd key per value is another (README.md).
type Allocator[T comparable] interface {
	// Allocate reserves v: ErrNotInRange/ErrPortNotInRange if v is outside
	// the range, ErrAllocated/ErrPortAllocated if it is taken.
	Allocate(v T) error
	// AllocateNext reserves a free value, from the dynamic band first;
	// ErrFull if none is left.
	AllocateNext() (T, error)
	// Release frees v. Freeing a free value or one outside the range is a
	// no-op and returns nil.
	Release(v T) error
	// Has reports whether v is reserved.
	Has(v T) bool
	// ForEach calls fn for each reserved value, in increasing order.
	ForEach(fn func(T))
	// Used and Free count the reserved and the free values.
	Used() int
	Free() int
	// DryRun returns a throwaway copy: it answers like the real allocator
	// (errors included) but changes nothing the real one sees.
	DryRun() Allocator[T]
}

// IPAllocator allocates the cluster IPs of one family.
type IPAllocator = Allocator[netip.Addr]

// PortAllocator allocates node ports.
type PortAllocator = Allocator[int]

// Op records what one write did to an Allocator, following upstream's rule
// that it is better to leak a value than to hand it out twice: allocations
// happen at once, releases are deferred until the write is stored.
//
//	op := NewOp(a)
//	... op.Allocate / op.AllocateNext / op.ReleaseLater ...
//	if storeErr != nil { op.Revert() } else { op.Commit() }
type Op[T comparable] struct {
	alloc     Allocator[T]
	allocated []T
	releases  []T
	done      bool
}

// NewOp starts an operation on a.
func NewOp[T comparable](a Allocator[T]) *Op[T] {
	return &Op[T]{alloc: a}
}

// Allocate reserves v and remembers it for Revert.
func (o *Op[T]) Allocate(v T) error {
	if err := o.alloc.Allocate(v); err != nil {
		return err
	}
	o.allocated = append(o.allocated, v)
	return nil
}

// AllocateNext reserves a free value and remembers it for Revert.
func (o *Op[T]) AllocateNext() (T, error) {
	v, err := o.alloc.AllocateNext()
	if err != nil {
		return v, err
	}
	o.allocated = append(o.allocated, v)
	return v, nil
}

// ReleaseLater frees v on Commit.
func (o *Op[T]) ReleaseLater(v T) {
	o.releases = append(o.releases, v)
}

// Allocated returns the values reserved so far.
func (o *Op[T]) Allocated() []T { return o.allocated }

// Released returns the values Commit frees.
func (o *Op[T]) Released() []T { return o.releases }

// Commit performs the deferred releases; call it once the write is stored.
// Errors are returned for logging: the values stay reserved and the next
// repair finds them.
func (o *Op[T]) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	return releaseAll(o.alloc, o.releases)
}

// Revert frees what the operation reserved; call it when the write failed.
// It does nothing after Commit.
func (o *Op[T]) Revert() error {
	if o.done {
		return nil
	}
	o.done = true
	return releaseAll(o.alloc, o.allocated)
}

func releaseAll[T comparable](a Allocator[T], vs []T) error {
	var errs []error
	for _, v := range vs {
		if err := a.Release(v); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
