package claim

import (
	"context"
	"errors"
	"sync"

	"github.com/svcplane/svcplane/internal/apiserver/allocator"
	"github.com/svcplane/svcplane/internal/storage"
)

// Range claims in storage the values of one local (in-memory) allocator.
// The local allocator checks the range, picks candidates with its bands
// and remembers what this server knows to be taken; the claim keys decide.
// A Range is used through Bind.
type Range[T comparable] struct {
	local allocator.Allocator[T]
	codec codec[T]
	taken error // what a lost claim answers: ErrAllocated, ErrPortAllocated
	io    *claimStore

	mu      sync.Mutex
	pending map[T]int // values being claimed now, which resync leaves marked
}

func newRange[T comparable](local allocator.Allocator[T], c codec[T], taken error, io *claimStore) *Range[T] {
	return &Range[T]{local: local, codec: c, taken: taken, io: io, pending: map[T]int{}}
}

// Bind returns the allocator one write uses: its claims are made with ctx
// (each call bounded by the configured timeout) for holder. Releases
// outlive a cancelled ctx, so that a write's clean-up still happens.
func (r *Range[T]) Bind(ctx context.Context, holder string) allocator.Allocator[T] {
	return &bound[T]{r: r, ctx: ctx, holder: holder}
}

// Local is the in-memory allocator behind the range.
func (r *Range[T]) Local() allocator.Allocator[T] { return r.local }

// reserve marks v locally as being claimed. It reports whether v was free
// locally; a value outside the range is an error.
func (r *Range[T]) reserve(v T) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	err := r.local.Allocate(v)
	if err != nil && !allocator.IsAllocated(err) {
		return false, err
	}
	r.pending[v]++
	return err == nil, nil
}

// pick marks a locally free value as being claimed; ErrFull if none is left.
func (r *Range[T]) pick() (T, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, err := r.local.AllocateNext()
	if err == nil {
		r.pending[v]++
	}
	return v, err
}

// settle ends the claim of v that reserve or pick began. A value taken by
// another holder stays marked; one that could not be claimed for another
// reason is unmarked if this claim marked it.
func (r *Range[T]) settle(v T, marked bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending[v]--; r.pending[v] <= 0 {
		delete(r.pending, v)
	}
	if err != nil && marked && !errors.Is(err, storage.ErrExists) {
		_ = r.local.Release(v)
	}
}

// claim makes the claim of v for holder. It answers r.taken when another
// holder has v, and storage errors as they are.
func (r *Range[T]) claim(ctx context.Context, v T, holder string, marked bool) error {
	err := r.io.create(ctx, r.codec.key(v), holder)
	r.settle(v, marked, err)
	if errors.Is(err, storage.ErrExists) {
		return r.taken
	}
	return err
}

// bound is a Range bound to one write.
type bound[T comparable] struct {
	r      *Range[T]
	ctx    context.Context
	holder string
}

// Allocate claims v. A value this server believes taken is still tried:
// the claim, not the local bitmap, is the truth.
func (b *bound[T]) Allocate(v T) error {
	marked, err := b.r.reserve(v)
	if err != nil {
		return err
	}
	return b.r.claim(b.ctx, v, b.holder, marked)
}

// AllocateNext claims a locally free value; a value another server holds
// stays marked locally and the next one is tried.
func (b *bound[T]) AllocateNext() (T, error) {
	for {
		v, err := b.r.pick()
		if err != nil {
			return v, err
		}
		switch err := b.r.claim(b.ctx, v, b.holder, true); {
		case err == nil:
			return v, nil
		case !errors.Is(err, b.r.taken):
			var zero T
			return zero, err
		}
	}
}

// Release deletes the claim of v if this holder has it, then frees v
// locally. A value another holder has stays as it is.
func (b *bound[T]) Release(v T) error {
	gone, err := b.r.io.release(context.WithoutCancel(b.ctx), b.r.codec.key(v), b.holder)
	if err != nil {
		return err
	}
	if gone {
		return b.r.local.Release(v)
	}
	return nil
}

// Has, ForEach, Used and Free answer from the local allocator: what this
// server knows to be taken.
func (b *bound[T]) Has(v T) bool       { return b.r.local.Has(v) }
func (b *bound[T]) ForEach(fn func(T)) { b.r.local.ForEach(fn) }
func (b *bound[T]) Used() int          { return b.r.local.Used() }
func (b *bound[T]) Free() int          { return b.r.local.Free() }

// DryRun is a copy of the local allocator: no claims are made.
func (b *bound[T]) DryRun() allocator.Allocator[T] { return b.r.local.DryRun() }
