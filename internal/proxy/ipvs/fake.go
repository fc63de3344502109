package ipvs

import (
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/svcplane/svcplane/internal/proxy/iptables"
	"github.com/svcplane/svcplane/internal/proxy/iptables/iptablestest"
)

// Fake is a stateful in-memory kernel: IPVS services and their real
// servers, ipsets, interfaces with addresses. It checks what the kernel
// checks (a service or destination added twice, a missing set or entry),
// so the backend's bookkeeping errors show in tests.
type Fake struct {
	mu       sync.Mutex
	services map[string]*fakeService
	sets     map[string]*fakeSet
	links    map[string]map[netip.Addr]bool
	timeouts Timeouts
	// Ops counts the IPVS, ipset and address operations that change
	// something, for tests of partial syncs.
	Ops int
}

type fakeService struct {
	svc   Service
	dests map[string]Destination
}

type fakeSet struct {
	spec    SetSpec
	entries map[string]bool
}

var (
	_ IPVS   = (*Fake)(nil)
	_ IPSets = (*Fake)(nil)
	_ Links  = (*Fake)(nil)
)

// NewFake returns an empty kernel whose interface eth0 holds nodeIPs.
func NewFake(nodeIPs ...netip.Addr) *Fake {
	f := &Fake{
		services: map[string]*fakeService{}, sets: map[string]*fakeSet{}, links: map[string]map[netip.Addr]bool{"eth0": {}},
		timeouts: Timeouts{TCP: 900 * time.Second, TCPFin: 120 * time.Second, UDP: 300 * time.Second},
	}
	for _, ip := range nodeIPs {
		f.links["eth0"][ip] = true
	}
	return f
}

// FakeKernel is a Kernel over f and an iptables fake.
func FakeKernel(f *Fake, ipt *iptablestest.Fake) Kernel {
	return Kernel{
		IPVS: f, Sets: f, Links: f, IPTables: ipt,
		Tools: iptables.Tools{IPTables: "iptables-nft", Save: "iptables-nft-save", Restore: "iptables-nft-restore", RandomFully: true},
	}
}

// Version is a fixed version line.
func (f *Fake) Version() string { return "IP Virtual Server version 1.2.1 (size=4096)" }

// Timeouts are the IPVS timeouts (the kernel's defaults until set).
func (f *Fake) Timeouts() (Timeouts, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.timeouts, nil
}

// SetTimeouts sets the non-zero timeouts, in whole seconds as the kernel
// keeps them; a negative one fails.
func (f *Fake) SetTimeouts(t Timeouts) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.TCP < 0 || t.TCPFin < 0 || t.UDP < 0 {
		return fmt.Errorf("set timeouts %+v: invalid argument", t)
	}
	for _, p := range []struct{ cur, v *time.Duration }{{&f.timeouts.TCP, &t.TCP}, {&f.timeouts.TCPFin, &t.TCPFin}, {&f.timeouts.UDP, &t.UDP}} {
		if sec := p.v.Truncate(time.Second); sec != 0 {
			*p.cur = sec
		}
	}
	f.Ops++
	return nil
}

// Services lists the services, sorted by key.
func (f *Fake) Services() ([]Service, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Service, 0, len(f.services))
	for _, s := range f.services {
		out = append(out, s.svc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

// AddService adds s; it fails when s exists.
func (f *Fake) AddService(s Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.services[s.Key()]; ok {
		return fmt.Errorf("add service %s: file exists", s.Key())
	}
	s.Flags |= FlagHashed
	f.services[s.Key()] = &fakeService{svc: s, dests: map[string]Destination{}}
	f.Ops++
	return nil
}

// UpdateService changes s's scheduler, flags and timeout.
func (f *Fake) UpdateService(s Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.services[s.Key()]
	if !ok {
		return fmt.Errorf("update service %s: no such process", s.Key())
	}
	s.Flags |= FlagHashed
	cur.svc = s
	f.Ops++
	return nil
}

// DeleteService removes s and its destinations.
func (f *Fake) DeleteService(s Service) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.services[s.Key()]; !ok {
		return fmt.Errorf("delete service %s: no such process", s.Key())
	}
	delete(f.services, s.Key())
	f.Ops++
	return nil
}

// Destinations lists s's real servers, sorted.
func (f *Fake) Destinations(s Service) ([]Destination, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.services[s.Key()]
	if !ok {
		return nil, fmt.Errorf("destinations of %s: no such process", s.Key())
	}
	out := make([]Destination, 0, len(cur.dests))
	for _, d := range cur.dests {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key() < out[j].Key() })
	return out, nil
}

func (f *Fake) destOp(s Service, d Destination, op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.services[s.Key()]
	if !ok {
		return fmt.Errorf("%s destination %s of %s: no such process", op, d.Key(), s.Key())
	}
	old, exists := cur.dests[d.Key()]
	switch {
	case op == "add" && exists:
		return fmt.Errorf("add destination %s of %s: file exists", d.Key(), s.Key())
	case op != "add" && !exists:
		return fmt.Errorf("%s destination %s of %s: no such file or directory", op, d.Key(), s.Key())
	case op == "delete":
		delete(cur.dests, d.Key())
	default:
		d.ActiveConn, d.InactConn = old.ActiveConn, old.InactConn
		cur.dests[d.Key()] = d
	}
	f.Ops++
	return nil
}

// AddDestination adds d to s.
func (f *Fake) AddDestination(s Service, d Destination) error { return f.destOp(s, d, "add") }

// UpdateDestination changes d's weight.
func (f *Fake) UpdateDestination(s Service, d Destination) error { return f.destOp(s, d, "update") }

// DeleteDestination removes d from s.
func (f *Fake) DeleteDestination(s Service, d Destination) error { return f.destOp(s, d, "delete") }

// SetConns sets the connection counts of a real server (tests of
// graceful removal).
func (f *Fake) SetConns(svcKey, destKey string, active, inactive int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.services[svcKey]; ok {
		if d, ok := s.dests[destKey]; ok {
			d.ActiveConn, d.InactConn = active, inactive
			s.dests[destKey] = d
		}
	}
}

// EnsureSet creates the set unless it exists.
func (f *Fake) EnsureSet(spec SetSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if cur, ok := f.sets[spec.Name]; ok {
		if cur.spec.Type != spec.Type {
			return fmt.Errorf("create set %s: set with the same name already exists of type %s", spec.Name, cur.spec.Type)
		}
		return nil
	}
	f.sets[spec.Name] = &fakeSet{spec: spec, entries: map[string]bool{}}
	f.Ops++
	return nil
}

// DestroySet removes a set.
func (f *Fake) DestroySet(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.sets, name)
	return nil
}

// Sets lists the set names, sorted.
func (f *Fake) Sets() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, 0, len(f.sets))
	for n := range f.sets {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// Entries lists a set's entries, sorted.
func (f *Fake) Entries(name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sets[name]
	if !ok {
		return nil, fmt.Errorf("list set %s: the set with the given name does not exist", name)
	}
	out := make([]string, 0, len(s.entries))
	for e := range s.entries {
		out = append(out, e)
	}
	sort.Strings(out)
	return out, nil
}

// Spec is the spec a set was created with.
func (f *Fake) Spec(name string) (SetSpec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sets[name]
	if !ok {
		return SetSpec{}, false
	}
	return s.spec, true
}

func (f *Fake) entryOp(name, entry string, add bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.sets[name]
	switch {
	case !ok:
		return fmt.Errorf("set %s: the set with the given name does not exist", name)
	case add && s.entries[entry]:
		return fmt.Errorf("add %s %s: element is already added", name, entry)
	case !add && !s.entries[entry]:
		return fmt.Errorf("del %s %s: element is missing", name, entry)
	case add:
		s.entries[entry] = true
	default:
		delete(s.entries, entry)
	}
	f.Ops++
	return nil
}

// AddEntry adds an entry.
func (f *Fake) AddEntry(name, entry string) error { return f.entryOp(name, entry, true) }

// DelEntry deletes an entry.
func (f *Fake) DelEntry(name, entry string) error { return f.entryOp(name, entry, false) }

// EnsureDummy creates the interface unless it exists.
func (f *Fake) EnsureDummy(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.links[name] == nil {
		f.links[name] = map[netip.Addr]bool{}
		f.Ops++
	}
	return nil
}

// DeleteLink removes an interface.
func (f *Fake) DeleteLink(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.links, name)
	return nil
}

// Exists says whether the interface exists.
func (f *Fake) Exists(name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.links[name] != nil
}

// Addrs lists an interface's addresses, sorted.
func (f *Fake) Addrs(name string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return sortedAddrs(f.links[name]), nil
}

func (f *Fake) addrOp(name string, a netip.Addr, add bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.links[name]
	switch {
	case l == nil:
		return fmt.Errorf("link %s: link not found", name)
	case add && l[a]:
		return fmt.Errorf("add address %s to %s: file exists", a, name)
	case !add && !l[a]:
		return fmt.Errorf("delete address %s from %s: cannot assign requested address", a, name)
	case add:
		l[a] = true
	default:
		delete(l, a)
	}
	f.Ops++
	return nil
}

// AddAddr adds an address to an interface.
func (f *Fake) AddAddr(name string, a netip.Addr) error { return f.addrOp(name, a, true) }

// DelAddr removes an address from an interface.
func (f *Fake) DelAddr(name string, a netip.Addr) error { return f.addrOp(name, a, false) }

// LocalAddrs lists the addresses of every interface but except.
func (f *Fake) LocalAddrs(except string) ([]netip.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	all := map[netip.Addr]bool{}
	for name, l := range f.links {
		if name == except {
			continue
		}
		for a := range l {
			all[a] = true
		}
	}
	return sortedAddrs(all), nil
}

func sortedAddrs(m map[netip.Addr]bool) []netip.Addr {
	out := make([]netip.Addr, 0, len(m))
	for a := range m {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Less(out[j]) })
	return out
}
