package ipvs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svcplane/svcplane/internal/proxy/iptables"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// errSkip carries a reason to skip out of the namespace's goroutine.
type errSkip struct{ reason string }

func (e errSkip) Error() string { return e.reason }

// inFreshNetns runs fn on an OS thread in a new network namespace, which
// goes away with the thread's last reference when fn returns (the
// kernel's IPVS services, sets, interfaces and rules in it too). Exec'd
// tools run in it as well. It skips where it cannot run.
func inFreshNetns(t *testing.T, fn func() error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (a network namespace, IPVS, ipsets)")
	}
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := vnetns.Get()
		if err != nil {
			errc <- errSkip{fmt.Sprintf("current netns: %v", err)}
			return
		}
		defer orig.Close()
		ns, err := vnetns.New()
		if err != nil {
			errc <- errSkip{fmt.Sprintf("new netns: %v", err)}
			return
		}
		err = fn()
		ns.Close()
		if vnetns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	var skip errSkip
	switch err := <-errc; {
	case errors.As(err, &skip):
		t.Skip(skip.reason)
	case err != nil:
		t.Fatal(err)
	}
}

// kernelInNetns opens the kernel of the calling thread's namespace: lo up,
// an eth0 holding the fixtures' node address, IPVS, ipsets; iptables when
// its tools work, else a no-op runner (logged), so the test needs no tool
// beyond iptables.
func kernelInNetns(t *testing.T) (Kernel, bool, error) {
	if err := Probe(); err != nil {
		return Kernel{}, false, errSkip{err.Error()}
	}
	if err := nodeLinks(); err != nil {
		return Kernel{}, false, err
	}
	k, err := OpenNetlink()
	if err != nil {
		return Kernel{}, false, err
	}
	tools, _, err := iptables.ChooseTools(context.Background(), iptables.OSExec{}, corev1.IPv4Protocol, "auto")
	if err != nil {
		t.Logf("iptables part not checked: %v", err)
		k.IPTables, k.Tools = noIPTables{}, iptables.Tools{IPTables: "iptables", Save: "iptables-save", Restore: "iptables-restore"}
		return k, false, nil
	}
	k.IPTables, k.Tools = iptables.OSExec{}, tools
	return k, true, nil
}

// noIPTables accepts every command and saves nothing.
type noIPTables struct{}

func (noIPTables) Run(context.Context, string, []string, []byte) ([]byte, error) { return nil, nil }

func nodeLinks() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return err
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return err
	}
	// A veth, not a dummy: not every kernel has dummy interfaces.
	eth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "eth0p"}
	if err := netlink.LinkAdd(eth); err != nil {
		return fmt.Errorf("add eth0: %w", err)
	}
	if err := netlink.LinkSetUp(eth); err != nil {
		return err
	}
	return netlink.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: net.ParseIP(proxytest.NodeIP), Mask: net.CIDRMask(24, 32)}})
}

// withoutIPTables cuts Rules before its iptables part and drops the
// version line, which differ between the fake and the kernel.
func withoutIPTables(rules string) string {
	rules, _, _ = strings.Cut(rules, "\n# iptables\n")
	_, rest, _ := strings.Cut(rules, "\n")
	return rest
}

// TestKernelOverall programs the shared fixtures into a real kernel, in a
// network namespace of its own, and reads them back: the same virtual
// services, real servers, addresses and ipsets as the fake holds, the
// packet cases through the kernel's state, a partial sync, and a cleanup
// that leaves nothing.
func TestKernelOverall(t *testing.T) {
	fake := newTestBackend(t, "")
	fake.sync(t, proxytest.OverallState())
	want := withoutIPTables(fake.rules(t))
	svcs, slices := partialFixtures()
	after := newTestBackend(t, "")
	after.sync(t, proxytest.State(svcs, slices))
	wantAfter := withoutIPTables(after.rules(t))
	inFreshNetns(t, func() error {
		k, withIPT, err := kernelInNetns(t)
		if err != nil {
			return err
		}
		defer k.Close()
		return kernelOverall(t, k, withIPT, want, wantAfter)
	})
}

func kernelOverall(t *testing.T, k Kernel, withIPT bool, want, wantAfter string) error {
	ctx := context.Background()
	b, err := New(ctx, Config{Kernel: &k, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	rules, err := b.Rules(ctx)
	if err != nil {
		return err
	}
	t.Logf("the kernel's state:\n%s", rules)
	if d := cmp.Diff(want, withoutIPTables(rules)); d != "" {
		return fmt.Errorf("kernel state differs from the fake's (-fake +kernel):\n%s", d)
	}
	if withIPT {
		if err := traceKernel(t, k); err != nil {
			return err
		}
	}
	if err := kernelPartial(b, wantAfter); err != nil {
		return err
	}
	return kernelCleanup(ctx, k)
}

// traceKernel runs the packet cases over the kernel's listing.
func traceKernel(t *testing.T, k Kernel) error {
	tr, err := kernelTracer(k)
	if err != nil {
		return err
	}
	for _, c := range ipvsCases() {
		p := tracer.Packet{Protocol: corev1.ProtocolTCP, Src: netip.MustParseAddr(c.Src), Dst: netip.MustParseAddr(c.Dst), Port: c.Port}
		if got := tr.Trace(p); got != c.Want {
			t.Errorf("%s: got %+v, want %+v", c.Name, got, c.Want)
		}
	}
	return nil
}

func kernelTracer(k Kernel) (*tracer.IPVS, error) {
	return ReadTracer(context.Background(), k, corev1.IPv4Protocol, proxytest.Node().IPs)
}

// partialFixtures are the fixtures with ns1's endpoint replaced and ns6
// deleted.
func partialFixtures() ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	svcs, slices := proxytest.OverallServices(), proxytest.OverallSlices()
	slices[0].Endpoints[0].Addresses = []string{"10.180.0.9"}
	return svcs[:5], slices
}

// kernelPartial makes partialFixtures' changes with a partial sync and
// checks the kernel against a fake's full sync of them.
func kernelPartial(b *Backend, want string) error {
	svcs, slices := partialFixtures()
	if err := b.Sync(context.Background(), partial(proxytest.State(svcs, slices), "ns1", "ns6")); err != nil {
		return fmt.Errorf("partial sync: %w", err)
	}
	got, err := b.Rules(context.Background())
	if err != nil {
		return err
	}
	if d := cmp.Diff(want, withoutIPTables(got)); d != "" {
		return fmt.Errorf("after a partial sync the kernel differs from a full sync (-full +kernel):\n%s", d)
	}
	return nil
}

// kernelCleanup runs Cleanup from a fresh backend and checks nothing of
// the mode is left.
func kernelCleanup(ctx context.Context, k Kernel) error {
	b, err := New(ctx, Config{Kernel: &k, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if err := b.Cleanup(ctx); err != nil {
		return fmt.Errorf("cleanup: %w", err)
	}
	svcs, err := k.IPVS.Services()
	if err != nil {
		return err
	}
	sets, err := k.Sets.Sets()
	if err != nil {
		return err
	}
	var left []string
	for _, s := range svcs {
		left = append(left, s.Key())
	}
	for _, s := range sets {
		if strings.HasPrefix(s, "KUBE-") {
			left = append(left, "ipset "+s)
		}
	}
	if k.Links.Exists(DummyDevice) {
		left = append(left, DummyDevice)
	}
	if len(left) > 0 {
		return fmt.Errorf("left after cleanup: %v", left)
	}
	return nil
}

// TestKernelProbeNamesWhatIsMissing checks, on a kernel without IPVS,
// that the mode is unavailable with a reason naming IPVS.
func TestKernelProbeNamesWhatIsMissing(t *testing.T) {
	if err := Probe(); err == nil {
		t.Skip("this kernel has IPVS and ipset")
	} else if !strings.Contains(err.Error(), "IPVS") && !strings.Contains(err.Error(), "ipset") {
		t.Errorf("probe error %q names neither IPVS nor ipset", err)
	}
}

// TestKernelSetsAndLinks writes every kind of ipset entry the mode uses
// and the dummy interface's addresses through netlink and reads them
// back (it needs ipset, not IPVS).
func TestKernelSetsAndLinks(t *testing.T) {
	entries := map[string][]string{
		setLoopBack:     {"10.180.0.5,tcp:80,10.180.0.5"},
		setClusterIP:    {"172.30.0.41,tcp:80", "172.30.0.42,udp:53"},
		setLBSourceCIDR: {"5.6.7.8,tcp:80,203.0.113.0/25"},
		setNodePortTCP:  {"3001", "30080"},
		setNodePortUDP:  {"3002"},
		setNodePortSCTP: {"192.168.0.2,sctp:3003"},
		setIPVSIPs:      {"172.30.0.41"},
	}
	inFreshNetns(t, func() error {
		if _, _, err := netlink.IpsetProtocol(); err != nil {
			return errSkip{fmt.Sprintf("kernel has no ipset: %v", err)}
		}
		k, err := OpenNetlink()
		if err != nil {
			return err
		}
		defer k.Close()
		if err := checkSets(k, entries); err != nil {
			return err
		}
		return checkLinks(t, k)
	})
}

func checkSets(k Kernel, entries map[string][]string) error {
	for _, s := range setsFor(corev1.IPv4Protocol) {
		if err := k.Sets.EnsureSet(s); err != nil {
			return fmt.Errorf("create %s %s: %w", s.Name, s.Type, err)
		}
		if err := k.Sets.EnsureSet(s); err != nil {
			return fmt.Errorf("ensure existing %s: %w", s.Name, err)
		}
		for _, e := range entries[s.Name] {
			if err := k.Sets.AddEntry(s.Name, e); err != nil {
				return fmt.Errorf("add %s %s: %w", s.Name, e, err)
			}
		}
		got, err := k.Sets.Entries(s.Name)
		if err != nil {
			return err
		}
		if d := cmp.Diff(sorted(entries[s.Name]), sorted(got)); d != "" {
			return fmt.Errorf("%s entries (-want +got):\n%s", s.Name, d)
		}
		for _, e := range entries[s.Name] {
			if err := k.Sets.DelEntry(s.Name, e); err != nil {
				return fmt.Errorf("del %s %s: %w", s.Name, e, err)
			}
		}
		if err := k.Sets.DestroySet(s.Name); err != nil {
			return fmt.Errorf("destroy %s: %w", s.Name, err)
		}
	}
	return nil
}

func sorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return out
}

func checkLinks(t *testing.T, k Kernel) error {
	if err := nodeLinks(); err != nil {
		return err
	}
	if err := k.Links.EnsureDummy(DummyDevice); errors.Is(err, unix.EOPNOTSUPP) {
		// Check the rest over a veth of that name.
		t.Logf("this kernel has no dummy interfaces (%v): %s is a veth here", err, DummyDevice)
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: DummyDevice}, PeerName: DummyDevice + "p"}); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("create %s: %w", DummyDevice, err)
	}
	if err := k.Links.EnsureDummy(DummyDevice); err != nil {
		return fmt.Errorf("ensure existing %s: %w", DummyDevice, err)
	}
	vip := netip.MustParseAddr("172.30.0.41")
	if err := k.Links.AddAddr(DummyDevice, vip); err != nil {
		return err
	}
	got, err := k.Links.Addrs(DummyDevice)
	if err != nil || len(got) != 1 || got[0] != vip {
		return fmt.Errorf("addresses of %s: %v %v, want [%s]", DummyDevice, got, err, vip)
	}
	local, err := k.Links.LocalAddrs(DummyDevice)
	if err != nil {
		return err
	}
	if slices.Contains(local, vip) || !slices.Contains(local, netip.MustParseAddr(proxytest.NodeIP)) {
		return fmt.Errorf("local addresses but %s: %v", DummyDevice, local)
	}
	if err := k.Links.DelAddr(DummyDevice, vip); err != nil {
		return err
	}
	if err := k.Links.DeleteLink(DummyDevice); err != nil {
		return err
	}
	if k.Links.Exists(DummyDevice) {
		return fmt.Errorf("%s still exists", DummyDevice)
	}
	return nil
}

// TestKernelSettings applies kube-proxy's ipvs settings to a real kernel:
// the timeouts read back through netlink, strictARP's sysctls, and a
// virtual service in excludeCIDRs that a full sync leaves while it
// removes its neighbour outside them.
func TestKernelSettings(t *testing.T) {
	inFreshNetns(t, func() error {
		k, _, err := kernelInNetns(t)
		if err != nil {
			return err
		}
		defer k.Close()
		return kernelSettings(k)
	})
}

func kernelSettings(k Kernel) error {
	ctx := context.Background()
	want := Timeouts{TCP: 1000 * time.Second, TCPFin: 60 * time.Second, UDP: 200 * time.Second}
	b, err := New(ctx, Config{Kernel: &k, Logger: slog.New(slog.DiscardHandler), Timeouts: want, StrictARP: true, ExcludeCIDRs: []string{"10.99.0.0/16"}})
	if err != nil {
		return err
	}
	if err := k.Links.EnsureDummy(DummyDevice); err != nil {
		return err
	}
	kept := Service{Protocol: "TCP", Address: netip.MustParseAddr("10.99.1.1"), Port: 80, Scheduler: "rr"}
	removed := Service{Protocol: "TCP", Address: netip.MustParseAddr("10.98.1.1"), Port: 80, Scheduler: "rr"}
	for _, s := range []Service{kept, removed} {
		if err := k.IPVS.AddService(s); err != nil {
			return err
		}
		if err := k.Links.AddAddr(DummyDevice, s.Address); err != nil {
			return err
		}
	}
	if err := b.Sync(ctx, proxytest.OverallState()); err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	if got, err := k.IPVS.Timeouts(); err != nil || got != want {
		return fmt.Errorf("kernel timeouts %+v (%v), want %+v", got, err, want)
	}
	for name, v := range map[string]string{"net/ipv4/conf/all/arp_ignore": "1", "net/ipv4/conf/all/arp_announce": "2"} {
		got, err := os.ReadFile("/proc/sys/" + name)
		if err != nil || strings.TrimSpace(string(got)) != v {
			return fmt.Errorf("%s is %q (%v), want %s", name, got, err, v)
		}
	}
	svcs, err := k.IPVS.Services()
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, s := range svcs {
		have[s.Key()] = true
	}
	if !have[kept.Key()] || have[removed.Key()] {
		return fmt.Errorf("after a full sync: %s present %v (want true, excludeCIDRs), %s present %v (want false)",
			kept.Key(), have[kept.Key()], removed.Key(), have[removed.Key()])
	}
	return nil
}
