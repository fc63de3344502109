package netns

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// ErrExhausted is returned when a pod CIDR has no free address left.
var ErrExhausted = errors.New("no free pod IP")

// IPAMConfig configures an IPAM.
type IPAMConfig struct {
	// CIDR is the node's pod CIDR. Its first address is the network, the
	// next the gateway (the bridge); the last is the broadcast address.
	CIDR netip.Prefix
	// Dir, when set, keeps one file per address (named by the address,
	// holding its owner) so that a restart finds the allocations again.
	Dir string
}

// IPAM gives each owner (a pod UID) one address of the pod CIDR. It is
// safe for concurrent use.
type IPAM struct {
	cfg     IPAMConfig
	mu      sync.Mutex
	byOwner map[string]netip.Addr
	byAddr  map[netip.Addr]string
	next    netip.Addr
}

// NewIPAM returns an IPAM, loading the allocations kept in cfg.Dir.
func NewIPAM(cfg IPAMConfig) (*IPAM, error) {
	cfg.CIDR = cfg.CIDR.Masked()
	if !cfg.CIDR.Addr().Is4() || cfg.CIDR.Bits() > 30 {
		return nil, fmt.Errorf("pod CIDR %s: need an IPv4 prefix of /30 or larger", cfg.CIDR)
	}
	a := &IPAM{cfg: cfg, byOwner: map[string]netip.Addr{}, byAddr: map[netip.Addr]string{}}
	a.next = a.first()
	if cfg.Dir == "" {
		return a, nil
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("ipam dir: %w", err)
	}
	return a, a.load()
}

// Gateway is the bridge's address: the second of the CIDR.
func (a *IPAM) Gateway() netip.Prefix {
	return netip.PrefixFrom(a.cfg.CIDR.Addr().Next(), a.cfg.CIDR.Bits())
}

// first is the first address given to pods.
func (a *IPAM) first() netip.Addr { return a.cfg.CIDR.Addr().Next().Next() }

// usable says whether addr may be given to a pod.
func (a *IPAM) usable(addr netip.Addr) bool {
	if !a.cfg.CIDR.Contains(addr) || addr.Less(a.first()) {
		return false
	}
	return a.cfg.CIDR.Contains(addr.Next())
}

func (a *IPAM) load() error {
	entries, err := os.ReadDir(a.cfg.Dir)
	if err != nil {
		return fmt.Errorf("ipam dir: %w", err)
	}
	for _, e := range entries {
		addr, err := netip.ParseAddr(e.Name())
		if err != nil || !a.usable(addr) {
			continue
		}
		owner, err := os.ReadFile(filepath.Join(a.cfg.Dir, e.Name()))
		if err != nil {
			return fmt.Errorf("ipam: %w", err)
		}
		o := strings.TrimSpace(string(owner))
		a.byOwner[o], a.byAddr[addr] = addr, o
	}
	return nil
}

// Allocate returns owner's address, giving it the next free one if it
// has none yet.
func (a *IPAM) Allocate(owner string) (netip.Addr, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if addr, ok := a.byOwner[owner]; ok {
		return addr, nil
	}
	addr, ok := a.findFree()
	if !ok {
		return netip.Addr{}, fmt.Errorf("allocate in %s: %w", a.cfg.CIDR, ErrExhausted)
	}
	if a.cfg.Dir != "" {
		if err := os.WriteFile(filepath.Join(a.cfg.Dir, addr.String()), []byte(owner+"\n"), 0o644); err != nil {
			return netip.Addr{}, fmt.Errorf("ipam: %w", err)
		}
	}
	a.byOwner[owner], a.byAddr[addr] = addr, owner
	a.next = addr.Next()
	return addr, nil
}

// findFree scans from the cursor, wrapping once, so that a released
// address is not reused at once.
func (a *IPAM) findFree() (netip.Addr, bool) {
	start := a.next
	if !a.usable(start) {
		start = a.first()
	}
	for addr := start; ; {
		if _, used := a.byAddr[addr]; !used {
			return addr, true
		}
		addr = addr.Next()
		if !a.usable(addr) {
			addr = a.first()
		}
		if addr == start {
			return netip.Addr{}, false
		}
	}
}

// Release frees owner's address, if it has one.
func (a *IPAM) Release(owner string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	addr, ok := a.byOwner[owner]
	if !ok {
		return nil
	}
	if a.cfg.Dir != "" {
		if err := os.Remove(filepath.Join(a.cfg.Dir, addr.String())); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("ipam: %w", err)
		}
	}
	delete(a.byOwner, owner)
	delete(a.byAddr, addr)
	return nil
}

// Lookup returns owner's address.
func (a *IPAM) Lookup(owner string) (netip.Addr, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	addr, ok := a.byOwner[owner]
	return addr, ok
}

// Owners returns every owner that has an address.
func (a *IPAM) Owners() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]string, 0, len(a.byOwner))
	for o := range a.byOwner {
		out = append(out, o)
	}
	return out
}
