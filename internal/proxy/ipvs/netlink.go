package ipvs

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	mobyipvs "github.com/moby/ipvs"
	"github.com/vishvananda/netlink"
	vnl "github.com/vishvananda/netlink/nl"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables"
)

// Open reaches the kernel of the calling thread's network namespace
// through netlink: IPVS (github.com/moby/ipvs), ipsets and the dummy
// interface (github.com/vishvananda/netlink), and the iptables tools. It
// errors, wrapping proxy.ErrUnavailable and naming what is missing, when
// the kernel has no IPVS or no ipset, or iptables does not work.
func Open(ctx context.Context, fam corev1.IPFamily, iptablesBackend string) (Kernel, error) {
	if err := Probe(); err != nil {
		return Kernel{}, err
	}
	tools, _, err := iptables.ChooseTools(ctx, iptables.OSExec{}, fam, iptablesBackend)
	if err != nil {
		return Kernel{}, fmt.Errorf("ipvs mode needs iptables: %w", err)
	}
	k, err := OpenNetlink()
	if err != nil {
		return Kernel{}, err
	}
	k.IPTables, k.Tools = iptables.OSExec{}, tools
	return k, nil
}

// OpenNetlink opens the netlink parts of the Kernel (IPVS, Sets, Links,
// Sysctl) in the calling thread's network namespace; the sockets stay
// there. Close releases them.
func OpenNetlink() (Kernel, error) {
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE, unix.NETLINK_NETFILTER, unix.NETLINK_GENERIC)
	if err != nil {
		return Kernel{}, fmt.Errorf("ipvs: netlink: %w: %v", proxy.ErrUnavailable, err)
	}
	nf, err := vnl.GetNetlinkSocketAt(vnetns.None(), vnetns.None(), unix.NETLINK_NETFILTER)
	if err != nil {
		nl.Close()
		return Kernel{}, fmt.Errorf("ipvs: netfilter netlink socket: %w: %v", proxy.ErrUnavailable, err)
	}
	h, err := mobyipvs.New("")
	if err != nil {
		nl.Close()
		nf.Close()
		return Kernel{}, fmt.Errorf("ipvs: IPVS netlink socket: %w: %v", proxy.ErrUnavailable, err)
	}
	return Kernel{
		IPVS: &netlinkIPVS{h: h}, Sets: &netlinkSets{h: nl, nf: nf}, Links: &netlinkLinks{h: nl},
		Sysctl: WriteSysctl, Close: func() { h.Close(); nl.Close(); nf.Close() },
	}, nil
}

// Probe says whether the kernel has what the mode needs: the IPVS
// generic netlink family (module ip_vs, loaded on demand) and ipset's
// netlink protocol (module ip_set).
func Probe() error {
	if _, err := netlink.GenlFamilyGet("IPVS"); err != nil {
		return fmt.Errorf("kernel has no IPVS (generic netlink family IPVS: %v; module ip_vs): %w", err, proxy.ErrUnavailable)
	}
	if _, _, err := netlink.IpsetProtocol(); err != nil {
		return fmt.Errorf("kernel has no ipset (%v; module ip_set): %w", err, proxy.ErrUnavailable)
	}
	return nil
}

// WriteSysctl writes /proc/sys/<name> in the calling thread's network
// namespace.
func WriteSysctl(name, value string) error {
	return os.WriteFile(filepath.Join("/proc/sys", name), []byte(value), 0o644)
}

// netlinkIPVS is IPVS through moby/ipvs.
type netlinkIPVS struct{ h *mobyipvs.Handle }

func protoNum(p string) uint16 {
	switch p {
	case "UDP":
		return unix.IPPROTO_UDP
	case "SCTP":
		return unix.IPPROTO_SCTP
	}
	return unix.IPPROTO_TCP
}

func protoName(n uint16) string {
	switch n {
	case unix.IPPROTO_UDP:
		return "UDP"
	case unix.IPPROTO_SCTP:
		return "SCTP"
	}
	return "TCP"
}

func toMoby(s Service) *mobyipvs.Service {
	m := &mobyipvs.Service{
		Address: net.IP(s.Address.AsSlice()), Protocol: protoNum(s.Protocol), Port: s.Port,
		SchedName: s.Scheduler, Flags: s.Flags, Timeout: s.Timeout,
		AddressFamily: unix.AF_INET, Netmask: 0xffffffff,
	}
	if s.Address.Is6() {
		m.AddressFamily, m.Netmask = unix.AF_INET6, 128
	}
	return m
}

func fromMoby(m *mobyipvs.Service) Service {
	a, _ := netip.AddrFromSlice(m.Address)
	return Service{Protocol: protoName(m.Protocol), Address: a.Unmap(), Port: m.Port, Scheduler: m.SchedName, Flags: m.Flags, Timeout: m.Timeout}
}

func toMobyDest(d Destination) *mobyipvs.Destination {
	m := &mobyipvs.Destination{Address: net.IP(d.Address.AsSlice()), Port: d.Port, Weight: d.Weight, ConnectionFlags: mobyipvs.ConnectionFlagMasq, AddressFamily: unix.AF_INET}
	if d.Address.Is6() {
		m.AddressFamily = unix.AF_INET6
	}
	return m
}

func (n *netlinkIPVS) Services() ([]Service, error) {
	ms, err := n.h.GetServices()
	if err != nil {
		return nil, err
	}
	out := make([]Service, 0, len(ms))
	for _, m := range ms {
		if m.FWMark == 0 {
			out = append(out, fromMoby(m))
		}
	}
	return out, nil
}

func (n *netlinkIPVS) AddService(s Service) error    { return n.h.NewService(toMoby(s)) }
func (n *netlinkIPVS) UpdateService(s Service) error { return n.h.UpdateService(toMoby(s)) }
func (n *netlinkIPVS) DeleteService(s Service) error { return n.h.DelService(toMoby(s)) }

func (n *netlinkIPVS) Destinations(s Service) ([]Destination, error) {
	ms, err := n.h.GetDestinations(toMoby(s))
	if err != nil {
		return nil, err
	}
	out := make([]Destination, 0, len(ms))
	for _, m := range ms {
		a, _ := netip.AddrFromSlice(m.Address)
		out = append(out, Destination{Address: a.Unmap(), Port: m.Port, Weight: m.Weight, ActiveConn: m.ActiveConnections, InactConn: m.InactiveConnections})
	}
	return out, nil
}

func (n *netlinkIPVS) AddDestination(s Service, d Destination) error {
	return n.h.NewDestination(toMoby(s), toMobyDest(d))
}

func (n *netlinkIPVS) UpdateDestination(s Service, d Destination) error {
	return n.h.UpdateDestination(toMoby(s), toMobyDest(d))
}

func (n *netlinkIPVS) DeleteDestination(s Service, d Destination) error {
	return n.h.DelDestination(toMoby(s), toMobyDest(d))
}

// Version is the first line of /proc/net/ip_vs.
func (n *netlinkIPVS) Timeouts() (Timeouts, error) {
	c, err := n.h.GetConfig()
	if err != nil {
		return Timeouts{}, err
	}
	return Timeouts{TCP: c.TimeoutTCP, TCPFin: c.TimeoutTCPFin, UDP: c.TimeoutUDP}, nil
}

func (n *netlinkIPVS) SetTimeouts(t Timeouts) error {
	return n.h.SetConfig(&mobyipvs.Config{TimeoutTCP: t.TCP, TimeoutTCPFin: t.TCPFin, TimeoutUDP: t.UDP})
}

func (n *netlinkIPVS) Version() string {
	f, err := os.Open("/proc/net/ip_vs")
	if err == nil {
		defer f.Close()
		if sc := bufio.NewScanner(f); sc.Scan() {
			return sc.Text()
		}
	}
	return "IP Virtual Server version (unknown)"
}

// netlinkSets are ipsets through netlink; nf is a netfilter socket of
// the same namespace for bitmap:port entries.
type netlinkSets struct {
	h  *netlink.Handle
	nf *vnl.NetlinkSocket
}

func (n *netlinkSets) EnsureSet(s SetSpec) error {
	if _, err := n.h.IpsetList(s.Name); err == nil {
		return nil
	}
	opts := netlink.IpsetCreateOptions{Family: unix.AF_INET}
	if s.IPv6 {
		opts.Family = unix.AF_INET6
	}
	if s.Type == "bitmap:port" {
		opts.PortFrom, opts.PortTo = 0, 65535
	}
	return n.h.IpsetCreate(s.Name, s.Type, opts)
}

func (n *netlinkSets) DestroySet(name string) error {
	if _, err := n.h.IpsetList(name); err != nil {
		return nil // no such set
	}
	return n.h.IpsetDestroy(name)
}

func (n *netlinkSets) Sets() ([]string, error) {
	all, err := n.h.IpsetListAll()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(all))
	for _, s := range all {
		out = append(out, s.SetName)
	}
	return out, nil
}

func (n *netlinkSets) Entries(name string) ([]string, error) {
	res, err := n.h.IpsetList(name)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(res.Entries))
	for _, e := range res.Entries {
		out = append(out, formatEntry(res.TypeName, e))
	}
	return out, nil
}

func (n *netlinkSets) AddEntry(name, entry string) error {
	if port, err := strconv.ParseUint(entry, 10, 16); err == nil {
		return n.bitmapPort(vnl.IPSET_CMD_ADD, name, uint16(port))
	}
	e, err := n.parse(name, entry)
	if err != nil {
		return err
	}
	return n.h.IpsetAdd(name, e)
}

func (n *netlinkSets) DelEntry(name, entry string) error {
	if port, err := strconv.ParseUint(entry, 10, 16); err == nil {
		return n.bitmapPort(vnl.IPSET_CMD_DEL, name, uint16(port))
	}
	e, err := n.parse(name, entry)
	if err != nil {
		return err
	}
	return n.h.IpsetDel(name, e)
}

func (n *netlinkSets) parse(name, entry string) (*netlink.IPSetEntry, error) {
	e, err := parseEntry(entry)
	if err != nil {
		return nil, fmt.Errorf("ipset %s entry %q: %w", name, entry, err)
	}
	if e.Protocol == nil && e.Port != nil {
		p := uint8(unix.IPPROTO_TCP)
		if strings.Contains(name, "-UDP") {
			p = unix.IPPROTO_UDP
		}
		e.Protocol = &p
	}
	return e, nil
}

// bitmapPort adds or deletes a port of a bitmap:port set: the message
// `ipset add SET 30080` sends. (netlink.IpsetAdd always sends a protocol
// with a port, which bitmap:port sets refuse.)
func (n *netlinkSets) bitmapPort(cmd int, set string, port uint16) error {
	req := &vnl.NetlinkRequest{
		NlMsghdr: unix.NlMsghdr{
			Len:   unix.SizeofNlMsghdr,
			Type:  uint16(cmd | unix.NFNL_SUBSYS_IPSET<<8),
			Flags: uint16(vnl.GetIpsetFlags(cmd)) | unix.NLM_F_REQUEST | unix.NLM_F_ACK,
		},
		Sockets: map[int]*vnl.SocketHandle{unix.NETLINK_NETFILTER: {Socket: n.nf}},
	}
	if cmd == vnl.IPSET_CMD_ADD {
		req.Flags |= unix.NLM_F_EXCL
	}
	req.AddData(&vnl.Nfgenmsg{NfgenFamily: unix.AF_NETLINK, Version: vnl.NFNETLINK_V0})
	req.AddData(vnl.NewRtAttr(vnl.IPSET_ATTR_PROTOCOL, vnl.Uint8Attr(vnl.IPSET_PROTOCOL)))
	req.AddData(vnl.NewRtAttr(vnl.IPSET_ATTR_SETNAME, vnl.ZeroTerminated(set)))
	data := vnl.NewRtAttr(vnl.IPSET_ATTR_DATA|int(vnl.NLA_F_NESTED), nil)
	data.AddChild(vnl.NewRtAttr(vnl.IPSET_ATTR_PORT|int(vnl.NLA_F_NET_BYTEORDER), binary.BigEndian.AppendUint16(nil, port)))
	data.AddChild(&vnl.Uint32Attribute{Type: vnl.IPSET_ATTR_LINENO | vnl.NLA_F_NET_BYTEORDER, Value: 0})
	req.AddData(data)
	if _, err := req.Execute(unix.NETLINK_NETFILTER, 0); err != nil {
		return fmt.Errorf("ipset %s %d: %w", set, port, err)
	}
	return nil
}

// parseEntry reads an entry in `ipset save` syntax.
func parseEntry(s string) (*netlink.IPSetEntry, error) {
	e := &netlink.IPSetEntry{}
	parts := strings.Split(s, ",")
	if n, err := strconv.ParseUint(s, 10, 16); err == nil {
		port := uint16(n)
		e.Port = &port
		return e, nil
	}
	a, err := netip.ParseAddr(parts[0])
	if err != nil {
		return nil, err
	}
	e.IP = net.IP(a.AsSlice())
	if len(parts) > 1 {
		proto, port, ok := strings.Cut(parts[1], ":")
		n, err := strconv.ParseUint(port, 10, 16)
		if !ok || err != nil {
			return nil, fmt.Errorf("bad proto:port %q", parts[1])
		}
		p, pn := uint16(n), uint8(protoNum(strings.ToUpper(proto)))
		e.Port, e.Protocol = &p, &pn
	}
	if len(parts) > 2 {
		pfx, err := netip.ParsePrefix(parts[2])
		if err != nil {
			a2, err2 := netip.ParseAddr(parts[2])
			if err2 != nil {
				return nil, err
			}
			pfx = netip.PrefixFrom(a2, a2.BitLen())
			e.IP2 = net.IP(a2.AsSlice())
		} else {
			e.IP2, e.CIDR2 = net.IP(pfx.Addr().AsSlice()), uint8(pfx.Bits())
		}
	}
	return e, nil
}

// formatEntry writes an entry of a set of type typ in `ipset save`
// syntax.
func formatEntry(typ string, e netlink.IPSetEntry) string {
	addr := func(ip net.IP) string {
		a, _ := netip.AddrFromSlice(ip)
		return a.Unmap().String()
	}
	port := func() string {
		if e.Port == nil {
			return "0"
		}
		return strconv.Itoa(int(*e.Port))
	}
	proto := func() string {
		if e.Protocol == nil {
			return "tcp"
		}
		return strings.ToLower(protoName(uint16(*e.Protocol)))
	}
	switch typ {
	case "bitmap:port":
		return port()
	case "hash:ip":
		return addr(e.IP)
	case "hash:ip,port":
		return addr(e.IP) + "," + proto() + ":" + port()
	case "hash:ip,port,ip":
		return addr(e.IP) + "," + proto() + ":" + port() + "," + addr(e.IP2)
	case "hash:ip,port,net":
		return addr(e.IP) + "," + proto() + ":" + port() + "," + addr(e.IP2) + "/" + strconv.Itoa(int(e.CIDR2))
	}
	return addr(e.IP)
}

// netlinkLinks are interfaces and addresses through netlink.
type netlinkLinks struct{ h *netlink.Handle }

func (n *netlinkLinks) EnsureDummy(name string) error {
	l, err := n.h.LinkByName(name)
	if err != nil {
		l = &netlink.Dummy{LinkAttrs: netlink.LinkAttrs{Name: name}}
		if err := n.h.LinkAdd(l); err != nil && !errors.Is(err, unix.EEXIST) {
			return err
		}
		if l, err = n.h.LinkByName(name); err != nil {
			return err
		}
	}
	return n.h.LinkSetUp(l)
}

func (n *netlinkLinks) DeleteLink(name string) error {
	l, err := n.h.LinkByName(name)
	if err != nil {
		return nil
	}
	return n.h.LinkDel(l)
}

func (n *netlinkLinks) Exists(name string) bool {
	_, err := n.h.LinkByName(name)
	return err == nil
}

func (n *netlinkLinks) Addrs(name string) ([]netip.Addr, error) {
	l, err := n.h.LinkByName(name)
	if err != nil {
		return nil, nil
	}
	as, err := n.h.AddrList(l, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	return addrsOf(as), nil
}

// addrsOf is the addresses of as but link-local ones: the kernel gives
// an interface that is up an fe80:: address of its own, which is neither
// a Service address of kube-ipvs0 nor a NodePort address.
func addrsOf(as []netlink.Addr) []netip.Addr {
	out := make([]netip.Addr, 0, len(as))
	for _, a := range as {
		if ip, ok := netip.AddrFromSlice(a.IP); ok && !ip.IsLinkLocalUnicast() {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

func hostNet(a netip.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: net.IP(a.AsSlice()), Mask: net.CIDRMask(a.BitLen(), a.BitLen())}}
}

func (n *netlinkLinks) AddAddr(name string, a netip.Addr) error {
	l, err := n.h.LinkByName(name)
	if err != nil {
		return err
	}
	return n.h.AddrAdd(l, hostNet(a))
}

func (n *netlinkLinks) DelAddr(name string, a netip.Addr) error {
	l, err := n.h.LinkByName(name)
	if err != nil {
		return err
	}
	return n.h.AddrDel(l, hostNet(a))
}

func (n *netlinkLinks) LocalAddrs(except string) ([]netip.Addr, error) {
	skip := -1
	if l, err := n.h.LinkByName(except); err == nil {
		skip = l.Attrs().Index
	}
	as, err := n.h.AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		return nil, err
	}
	var keep []netlink.Addr
	for _, a := range as {
		if a.LinkIndex != skip {
			keep = append(keep, a)
		}
	}
	return addrsOf(keep), nil
}
