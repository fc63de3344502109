package lbipam

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Errors of Assign.
var (
	ErrFull       = errors.New("no addresses left in the load balancer range")
	ErrNotInRange = errors.New("requested address is not in the load balancer range")
	ErrInUse      = errors.New("requested address is already assigned to another service")
)

// Range is an inclusive span of addresses of one family.
type Range struct {
	First, Last netip.Addr
}

// ParseRange reads "a.b.c.d/n" (without its network and, for IPv4, its
// broadcast address) or "first-last".
func ParseRange(s string) (Range, error) {
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err1 := netip.ParseAddr(strings.TrimSpace(first))
		b, err2 := netip.ParseAddr(strings.TrimSpace(last))
		if err := errors.Join(err1, err2); err != nil {
			return Range{}, fmt.Errorf("load balancer range %q: %w", s, err)
		}
		if a.BitLen() != b.BitLen() || b.Less(a) {
			return Range{}, fmt.Errorf("load balancer range %q: last address before first or of another family", s)
		}
		return Range{a, b}, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Range{}, fmt.Errorf("load balancer range %q: %w", s, err)
	}
	return cidrRange(p.Masked())
}

func cidrRange(p netip.Prefix) (Range, error) {
	first, last := p.Addr(), lastAddr(p)
	if p.Bits() < p.Addr().BitLen()-1 {
		first = first.Next()
		if first.Is4() {
			last = last.Prev()
		}
	}
	return Range{first, last}, nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for bit := p.Bits(); bit < len(b)*8; bit++ {
		b[bit/8] |= 1 << (7 - bit%8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Contains says whether a is in the range.
func (r Range) Contains(a netip.Addr) bool {
	return a.BitLen() == r.First.BitLen() && !a.Less(r.First) && !r.Last.Less(a)
}

// Pool tracks which Service (by namespace/name) holds which address.
type Pool struct {
	r     Range
	owner map[netip.Addr]string
	held  map[string]netip.Addr
}

// NewPool is an empty pool over r.
func NewPool(r Range) *Pool {
	return &Pool{r: r, owner: map[netip.Addr]string{}, held: map[string]netip.Addr{}}
}

// Assign gives key an address: the preferred one when valid (it must be
// in range and free or already key's), else the one key holds, else the
// lowest free one.
func (p *Pool) Assign(key string, preferred netip.Addr) (netip.Addr, error) {
	held, holds := p.held[key]
	switch {
	case preferred.IsValid() && !p.r.Contains(preferred):
		return netip.Addr{}, ErrNotInRange
	case preferred.IsValid() && p.owner[preferred] != "" && p.owner[preferred] != key:
		return netip.Addr{}, ErrInUse
	case preferred.IsValid():
		p.Release(key)
		p.take(key, preferred)
		return preferred, nil
	case holds:
		return held, nil
	}
	for a := p.r.First; p.r.Contains(a); a = a.Next() {
		if p.owner[a] == "" {
			p.take(key, a)
			return a, nil
		}
	}
	return netip.Addr{}, ErrFull
}

func (p *Pool) take(key string, a netip.Addr) {
	p.owner[a] = key
	p.held[key] = a
}

// Release frees what key holds.
func (p *Pool) Release(key string) {
	if a, ok := p.held[key]; ok {
		delete(p.owner, a)
		delete(p.held, key)
	}
}

// Held returns what key holds.
func (p *Pool) Held(key string) (netip.Addr, bool) {
	a, ok := p.held[key]
	return a, ok
}
