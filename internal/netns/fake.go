package netns

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
)

// Fake keeps namespaces, a bridge and veth pairs in memory. It checks
// what the kernel would (a pod's namespace exists, the bridge exists) and
// can Dump its state as text for tests.
type Fake struct {
	mu      sync.Mutex
	spaces  map[string]bool
	bridges map[string]Bridge
	veths   map[string]PodLink
}

var (
	_ Namespaces = (*Fake)(nil)
	_ Network    = (*Fake)(nil)
)

// NewFake returns an empty Fake.
func NewFake() *Fake {
	return &Fake{spaces: map[string]bool{}, bridges: map[string]Bridge{}, veths: map[string]PodLink{}}
}

const fakeDir = "/fake/netns"

// Path returns the fake path of namespace name.
func (f *Fake) Path(name string) string { return path.Join(fakeDir, name) }

// Create records namespace name.
func (f *Fake) Create(name string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.spaces[name] = true
	return f.Path(name), nil
}

// Delete forgets namespace name and the veths inside it.
func (f *Fake) Delete(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.spaces, name)
	for v, l := range f.veths {
		if l.NetnsPath == f.Path(name) {
			delete(f.veths, v)
		}
	}
	return nil
}

// List returns the namespaces starting with prefix.
func (f *Fake) List(prefix string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for n := range f.spaces {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// EnsureBridge records the bridge.
func (f *Fake) EnsureBridge(b Bridge) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bridges[b.Name] = b
	return nil
}

// AttachPod records the veth pair after checking its namespace and bridge.
func (f *Fake) AttachPod(p PodLink) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.bridges[p.Bridge]; !ok {
		return fmt.Errorf("find bridge %s: link not found", p.Bridge)
	}
	if !f.spaces[path.Base(p.NetnsPath)] || path.Dir(p.NetnsPath) != fakeDir {
		return fmt.Errorf("open netns %s: no such file or directory", p.NetnsPath)
	}
	f.veths[p.HostVeth] = p
	return nil
}

// DetachPod forgets the veth pair.
func (f *Fake) DetachPod(hostVeth string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.veths, hostVeth)
	return nil
}

// Dump prints the state, one sorted line per object.
func (f *Fake) Dump() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lines []string
	for n := range f.spaces {
		lines = append(lines, "netns "+n)
	}
	for _, b := range f.bridges {
		lines = append(lines, fmt.Sprintf("bridge %s %s", b.Name, b.Gateway))
	}
	for _, v := range f.veths {
		lines = append(lines, fmt.Sprintf("veth %s master %s peer %s:%s %s via %s",
			v.HostVeth, v.Bridge, path.Base(v.NetnsPath), PodInterface, v.Address, v.Gateway))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
