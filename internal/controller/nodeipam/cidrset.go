package nodeipam

import (
	"errors"
	"fmt"
	"net/netip"
)

// ErrFull is returned when every node CIDR is taken; the text is
// upstream's.
var ErrFull = errors.New("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")

// maxMaskDiff caps the number of node CIDRs at 2^16, as upstream does.
const maxMaskDiff = 16

// CIDRSet hands out the node-sized subnets of a cluster CIDR. Allocation
// goes round from the last one handed out, so a released subnet is not
// reused before the others.
type CIDRSet struct {
	cluster  netip.Prefix
	nodeBits int
	used     []bool
	free     int
	next     int
}

// NewCIDRSet splits cluster into subnets of nodeBits bits each.
func NewCIDRSet(cluster netip.Prefix, nodeBits int) (*CIDRSet, error) {
	cluster = cluster.Masked()
	if nodeBits < cluster.Bits() || nodeBits > cluster.Addr().BitLen() {
		return nil, fmt.Errorf("node mask /%d does not fit in cluster CIDR %s", nodeBits, cluster)
	}
	if nodeBits-cluster.Bits() > maxMaskDiff {
		return nil, fmt.Errorf("node mask /%d is more than %d bits longer than cluster CIDR %s", nodeBits, maxMaskDiff, cluster)
	}
	n := 1 << (nodeBits - cluster.Bits())
	return &CIDRSet{cluster: cluster, nodeBits: nodeBits, used: make([]bool, n), free: n}, nil
}

// Allocate takes the next free subnet.
func (s *CIDRSet) Allocate() (netip.Prefix, error) {
	if s.free == 0 {
		return netip.Prefix{}, ErrFull
	}
	for i := range s.used {
		idx := (s.next + i) % len(s.used)
		if !s.used[idx] {
			s.used[idx] = true
			s.free--
			s.next = (idx + 1) % len(s.used)
			return s.subnet(idx), nil
		}
	}
	return netip.Prefix{}, ErrFull
}

// Occupy marks every subnet that p overlaps as taken.
func (s *CIDRSet) Occupy(p netip.Prefix) error {
	return s.mark(p, true)
}

// Release frees every subnet that p overlaps.
func (s *CIDRSet) Release(p netip.Prefix) error {
	return s.mark(p, false)
}

func (s *CIDRSet) mark(p netip.Prefix, used bool) error {
	begin, end, err := s.indices(p)
	if err != nil {
		return err
	}
	for i := begin; i <= end; i++ {
		if s.used[i] != used {
			s.used[i] = used
			if used {
				s.free--
			} else {
				s.free++
			}
		}
	}
	return nil
}

// indices are the first and last subnet indices p overlaps.
func (s *CIDRSet) indices(p netip.Prefix) (int, int, error) {
	p = p.Masked()
	if !s.cluster.Overlaps(p) || p.Addr().BitLen() != s.cluster.Addr().BitLen() {
		return 0, 0, fmt.Errorf("CIDR %s is not in cluster CIDR %s", p, s.cluster)
	}
	if p.Bits() < s.cluster.Bits() {
		return 0, len(s.used) - 1, nil
	}
	first := s.index(p.Addr())
	if p.Bits() >= s.nodeBits {
		return first, first, nil
	}
	return first, first + 1<<(s.nodeBits-p.Bits()) - 1, nil
}

// index is the subnet number holding addr: the bits between the cluster
// mask and the node mask.
func (s *CIDRSet) index(addr netip.Addr) int {
	b := addr.As16()
	offset := 128 - addr.BitLen()
	idx := 0
	for bit := s.cluster.Bits(); bit < s.nodeBits; bit++ {
		pos := offset + bit
		idx = idx<<1 | int(b[pos/8]>>(7-pos%8)&1)
	}
	return idx
}

// subnet is the prefix of subnet number idx.
func (s *CIDRSet) subnet(idx int) netip.Prefix {
	b := s.cluster.Addr().As16()
	offset := 128 - s.cluster.Addr().BitLen()
	for bit := s.nodeBits - 1; bit >= s.cluster.Bits(); bit-- {
		pos := offset + bit
		if idx&1 == 1 {
			b[pos/8] |= 1 << (7 - pos%8)
		}
		idx >>= 1
	}
	addr := netip.AddrFrom16(b)
	if s.cluster.Addr().Is4() {
		addr = addr.Unmap()
	}
	return netip.PrefixFrom(addr, s.nodeBits)
}

// Free is how many subnets are left.
func (s *CIDRSet) Free() int { return s.free }
