package allocator

import (
	"bytes"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// bitmap is a set of offsets [0, size), safe for concurrent use. The offsets
// are split into a lower static band [0, band) and an upper dynamic band
// [band, size): allocateNext takes from the upper band first, starting at a
// random offset and scanning forward with wrap-around, and falls back to the
// lower band only when the upper one is full (upstream's
// randomScanStrategyWithOffset).
type bitmap struct {
	size int
	band int
	// randn returns a value in [0, n); rand.IntN unless a test sets it.
	randn func(n int) int

	mu    sync.Mutex
	count int
	words []uint64
}

func newBitmap(size, band int) *bitmap {
	if band < 0 || band >= size {
		band = 0
	}
	return &bitmap{
		size:  size,
		band:  band,
		randn: rand.IntN,
		words: make([]uint64, (size+63)/64),
	}
}

func (b *bitmap) get(i int) bool {
	return b.words[i/64]&(1<<(uint(i)%64)) != 0
}

func (b *bitmap) set(i int) {
	b.words[i/64] |= 1 << (uint(i) % 64)
	b.count++
}

// allocate marks offset i (which must be in [0, size)); false if it was
// already marked.
func (b *bitmap) allocate(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.get(i) {
		return false
	}
	b.set(i)
	return true
}

// allocateNext marks and returns a free offset; false if none is left.
func (b *bitmap) allocateNext() (int, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.count >= b.size {
		return 0, false
	}
	i := b.scan(b.band, b.size)
	if i < 0 {
		i = b.scan(0, b.band)
	}
	if i < 0 {
		return 0, false
	}
	b.set(i)
	return i, true
}

// scan returns a free offset of [lo, hi), looking from a random start to hi
// and then from lo to the start; -1 if there is none.
func (b *bitmap) scan(lo, hi int) int {
	if hi <= lo {
		return -1
	}
	start := lo + b.randn(hi-lo)
	if i := b.firstFree(start, hi); i >= 0 {
		return i
	}
	return b.firstFree(lo, start)
}

// firstFree returns the lowest free offset of [from, to), or -1. It skips
// full words, so a scan costs size/64 steps at most.
func (b *bitmap) firstFree(from, to int) int {
	for i := from; i < to; i = (i/64 + 1) * 64 {
		// Treat the bits below i in this word as taken.
		w := b.words[i/64] | (1<<(uint(i)%64) - 1)
		if w == ^uint64(0) {
			continue
		}
		j := i/64*64 + bits.TrailingZeros64(^w)
		if j < to {
			return j
		}
		return -1
	}
	return -1
}

// release unmarks offset i; releasing a free offset is a no-op.
func (b *bitmap) release(i int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.get(i) {
		b.words[i/64] &^= 1 << (uint(i) % 64)
		b.count--
	}
}

func (b *bitmap) has(i int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.get(i)
}

func (b *bitmap) used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.count
}

// offsets returns the marked offsets in increasing order. It copies them out
// so that callbacks run without the lock held.
func (b *bitmap) offsets() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]int, 0, b.count)
	for wi, w := range b.words {
		for w != 0 {
			out = append(out, wi*64+bits.TrailingZeros64(w))
			w &= w - 1
		}
	}
	return out
}

// clone returns an independent copy with the same marks.
func (b *bitmap) clone() *bitmap {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := &bitmap{size: b.size, band: b.band, randn: b.randn, count: b.count}
	c.words = append([]uint64(nil), b.words...)
	return c
}

// snapshot encodes the marks as upstream's RangeAllocation.data: the bytes
// of a big-endian integer whose bit i is offset i, without leading zeros
// (math/big's Int.Bytes).
func (b *bitmap) snapshot() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(b.words) * 8
	out := make([]byte, n)
	for wi, w := range b.words {
		for k := range 8 {
			out[n-1-(wi*8+k)] = byte(w >> (8 * k))
		}
	}
	return bytes.TrimLeft(out, "\x00")
}

// restore replaces the marks with those encoded by snapshot.
func (b *bitmap) restore(data []byte) error {
	words := make([]uint64, len(b.words))
	count := 0
	for j, v := range data {
		if v == 0 {
			continue
		}
		idx := len(data) - 1 - j // byte index, least significant first
		if valid := b.size - idx*8; valid <= 0 || (valid < 8 && v>>valid != 0) {
			return fmt.Errorf("snapshot marks offsets beyond the range size %d", b.size)
		}
		words[idx/8] |= uint64(v) << (8 * (idx % 8))
		count += bits.OnesCount8(v)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.words, b.count = words, count
	return nil
}

// staticBand is KEP-3070/KEP-3668's size of the lower band,
// min(max(lo, size/step), hi), or 0 when size <= lo.
func staticBand(size, lo, step, hi int) int {
	if size <= lo {
		return 0
	}
	return min(max(lo, size/step), hi)
}
