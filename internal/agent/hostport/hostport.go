// Package hostport maps pods' hostPorts on the node, as the CNI portmap
// plugin does for kubelet: a connection to a local address of the node at
// a container's hostPort (to hostIP only, when the port names one) is
// DNATed to the pod's IP and containerPort, from outside the node
// (prerouting) and from the node itself (output). Connections from the
// node's loopback, and a pod reaching its own hostPort, are masqueraded so
// the answer comes back the same way. The rules live in nftables tables of
// their own ("ip svcplane-hostport", "ip6 svcplane-hostport"), rewritten
// whole on every change.
package hostport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/knftables"
)

// TableName is the nftables table of each family.
const TableName = "svcplane-hostport"

// Mapping is one hostPort of a pod.
type Mapping struct {
	Protocol corev1.Protocol `json:"protocol"`
	// HostIP, when valid, is the only node address the port answers on.
	HostIP        netip.Addr `json:"hostIP,omitzero"`
	HostPort      int32      `json:"hostPort"`
	PodIP         netip.Addr `json:"podIP"`
	ContainerPort int32      `json:"containerPort"`
}

// ForPod returns the hostPorts of a pod whose IP is podIP. HostNetwork
// pods have none to map (their ports are the node's), nor do ports whose
// hostIP is of the other family.
func ForPod(pod *corev1.Pod, podIP netip.Addr) []Mapping {
	if pod.Spec.HostNetwork || !podIP.IsValid() {
		return nil
	}
	var out []Mapping
	for _, c := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
		for _, p := range c.Ports {
			if p.HostPort <= 0 {
				continue
			}
			m := Mapping{Protocol: p.Protocol, HostPort: p.HostPort, PodIP: podIP, ContainerPort: p.ContainerPort}
			if m.Protocol == "" {
				m.Protocol = corev1.ProtocolTCP
			}
			if ip, err := netip.ParseAddr(p.HostIP); err == nil && !ip.IsUnspecified() {
				m.HostIP = ip.Unmap()
			}
			if m.HostIP.IsValid() && m.HostIP.Is4() != podIP.Is4() {
				continue
			}
			out = append(out, m)
		}
	}
	return out
}

// Table keeps the node's hostPort rules.
type Table struct {
	v4, v6 knftables.Interface
	// bridge is the interface pods hang off: route_localnet is set on it
	// so that connections from 127.0.0.1 may be routed to pods.
	bridge string
	// clear removes conntrack entries of a UDP port that gets a mapping.
	clear func(m Mapping) error
	// sysctl writes a sysctl under /proc/sys.
	sysctl func(name, value string) error
	log    *slog.Logger

	mu   sync.Mutex
	last map[Mapping]bool
}

// Open returns the Table of the network namespace the process runs in;
// it errors when nft is missing.
func Open(bridge string, log *slog.Logger) (*Table, error) {
	v4, err := knftables.New(knftables.IPv4Family, TableName)
	if err != nil {
		return nil, fmt.Errorf("hostPorts: nftables: %w", err)
	}
	v6, err := knftables.New(knftables.IPv6Family, TableName)
	if err != nil {
		return nil, fmt.Errorf("hostPorts: nftables: %w", err)
	}
	return New(v4, v6, bridge, clearConntrack, writeSysctl, log), nil
}

// New returns a Table over the given nftables interfaces (knftables.Fake
// in tests), conntrack cleaner and sysctl writer.
func New(v4, v6 knftables.Interface, bridge string, clear func(Mapping) error, sysctl func(name, value string) error, log *slog.Logger) *Table {
	if log == nil {
		log = slog.Default()
	}
	return &Table{v4: v4, v6: v6, bridge: bridge, clear: clear, sysctl: sysctl, log: log}
}

// Sync makes the node's rules those of ms, the mappings of every pod.
func (t *Table) Sync(ctx context.Context, ms []Mapping) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	var v4, v6 []Mapping
	for _, m := range ms {
		if m.PodIP.Is4() {
			v4 = append(v4, m)
		} else {
			v6 = append(v6, m)
		}
	}
	if len(v4) > 0 && t.bridge != "" {
		if err := t.sysctl("net/ipv4/conf/"+t.bridge+"/route_localnet", "1"); err != nil {
			t.log.Warn("hostPorts from 127.0.0.1 will not reach pods", "err", err)
		}
	}
	err := errors.Join(t.write(ctx, t.v4, v4), t.write(ctx, t.v6, v6))
	now := map[Mapping]bool{}
	for _, m := range ms {
		now[m] = true
		if !t.last[m] && m.Protocol == corev1.ProtocolUDP {
			// A UDP flow that started before the mapping would keep
			// going to the node itself.
			if cerr := t.clear(m); cerr != nil {
				t.log.Warn("stale UDP flows of a hostPort not cleared", "port", m.HostPort, "err", cerr)
			}
		}
	}
	if err == nil {
		t.last = now
	}
	return err
}

// write replaces one family's table with the rules of ms; with none,
// the table is removed.
func (t *Table) write(ctx context.Context, nft knftables.Interface, ms []Mapping) error {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if len(ms) > 0 {
		addRules(tx, ms)
	}
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("hostPorts: %w", err)
	}
	return nil
}

// The chains of each table.
const (
	chainPrerouting  = "prerouting"
	chainOutput      = "output"
	chainPostrouting = "postrouting"
	chainHostPorts   = "hostports"
)

func addRules(tx *knftables.Transaction, ms []Mapping) {
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("pods' hostPorts (svcplane agent)")})
	for _, c := range []struct {
		name string
		hook knftables.BaseChainHook
		prio knftables.BaseChainPriority
	}{
		{chainPrerouting, knftables.PreroutingHook, knftables.DNATPriority},
		{chainOutput, knftables.OutputHook, knftables.DNATPriority},
		{chainPostrouting, knftables.PostroutingHook, knftables.SNATPriority},
	} {
		tx.Add(&knftables.Chain{Name: c.name, Type: knftables.PtrTo(knftables.NATType), Hook: knftables.PtrTo(c.hook), Priority: knftables.PtrTo(c.prio)})
	}
	tx.Add(&knftables.Chain{Name: chainHostPorts})
	tx.Add(&knftables.Rule{Chain: chainPrerouting, Rule: "fib daddr type local jump " + chainHostPorts})
	tx.Add(&knftables.Rule{Chain: chainOutput, Rule: "fib daddr type local jump " + chainHostPorts})
	for _, m := range ms {
		tx.Add(&knftables.Rule{Chain: chainHostPorts, Rule: dnatRule(m)})
		for _, r := range masqueradeRules(m) {
			tx.Add(&knftables.Rule{Chain: chainPostrouting, Rule: r})
		}
	}
}

// dnatRule sends the hostPort to the pod.
func dnatRule(m Mapping) string {
	proto := strings.ToLower(string(m.Protocol))
	var b strings.Builder
	if m.HostIP.IsValid() {
		fmt.Fprintf(&b, "%s daddr %s ", ipKeyword(m.PodIP), m.HostIP)
	}
	fmt.Fprintf(&b, "%s dport %d dnat to %s", proto, m.HostPort, netip.AddrPortFrom(m.PodIP, uint16(m.ContainerPort)))
	return b.String()
}

// masqueradeRules: the pod reaching its own hostPort (hairpin), and the
// node's loopback reaching it, are answered through the node.
func masqueradeRules(m Mapping) []string {
	ip, proto := ipKeyword(m.PodIP), strings.ToLower(string(m.Protocol))
	loopback := "127.0.0.0/8"
	if m.PodIP.Is6() {
		loopback = "::1"
	}
	to := fmt.Sprintf("%s daddr %s %s dport %d", ip, m.PodIP, proto, m.ContainerPort)
	return []string{
		fmt.Sprintf("ct status dnat %s saddr %s %s masquerade", ip, m.PodIP, to),
		fmt.Sprintf("ct status dnat %s saddr %s %s masquerade", ip, loopback, to),
	}
}

func ipKeyword(a netip.Addr) string {
	if a.Is4() {
		return "ip"
	}
	return "ip6"
}

// clearConntrack deletes the UDP flows to the mapping's host port.
func clearConntrack(m Mapping) error {
	f := &netlink.ConntrackFilter{}
	family := netlink.InetFamily(netlink.FAMILY_V4)
	if m.PodIP.Is6() {
		family = netlink.FAMILY_V6
	}
	if err := f.AddProtocol(17); err != nil {
		return err
	}
	if err := f.AddPort(netlink.ConntrackOrigDstPort, uint16(m.HostPort)); err != nil {
		return err
	}
	if m.HostIP.IsValid() {
		if err := f.AddIP(netlink.ConntrackOrigDstIP, net.IP(m.HostIP.AsSlice())); err != nil {
			return err
		}
	}
	_, err := netlink.ConntrackDeleteFilters(netlink.ConntrackTable, family, f)
	return err
}

func writeSysctl(name, value string) error {
	return os.WriteFile(filepath.Join("/proc/sys", name), []byte(value), 0o644)
}

// String is the mapping as logs show it.
func (m Mapping) String() string {
	host := "*"
	if m.HostIP.IsValid() {
		host = m.HostIP.String()
	}
	return fmt.Sprintf("%s %s:%s -> %s", m.Protocol, host, strconv.Itoa(int(m.HostPort)), netip.AddrPortFrom(m.PodIP, uint16(m.ContainerPort)))
}
