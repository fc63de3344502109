package ipvs

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/svcplane/svcplane/internal/proxy"
)

// applyVirtuals brings the dirty virtual services to what is claimed.
func (b *Backend) applyVirtuals(d dirty) []error {
	keys := make([]string, 0, len(d.vs))
	for k := range d.vs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, key := range keys {
		if err := b.applyVirtual(key); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

func (b *Backend) applyVirtual(key string) error {
	want, ok := b.winner(key)
	have := b.kvs[key]
	switch {
	case !ok && have == nil:
		return nil
	case !ok && b.excluded(have.svc.Address):
		// ipvs.excludeCIDRs: left in the kernel and forgotten.
		b.log.Debug("virtual service in excludeCIDRs left alone", "virtualService", key)
		delete(b.kvs, key)
		delete(b.draining, key)
		return nil
	case !ok:
		if err := b.k.IPVS.DeleteService(have.svc); err != nil {
			return fmt.Errorf("delete virtual service %s: %w", key, err)
		}
		b.log.Debug("virtual service deleted", "virtualService", key)
		delete(b.kvs, key)
		delete(b.draining, key)
		return nil
	case have == nil:
		if err := b.k.IPVS.AddService(want.svc); err != nil {
			return fmt.Errorf("add virtual service %s: %w", key, err)
		}
		b.log.Debug("virtual service added", "virtualService", key, "scheduler", want.svc.Scheduler)
		have = &kernelVS{svc: want.svc, dests: map[string]Destination{}}
		b.kvs[key] = have
	case !have.svc.same(want.svc):
		if err := b.k.IPVS.UpdateService(want.svc); err != nil {
			return fmt.Errorf("update virtual service %s: %w", key, err)
		}
		have.svc = want.svc
	}
	return b.syncDests(key, have, want.dests)
}

// syncDests adds the wanted real servers at weight 1 (restoring a
// draining one) and removes the others gracefully.
func (b *Backend) syncDests(key string, kv *kernelVS, want []netip.AddrPort) error {
	wanted := make(map[string]bool, len(want))
	for _, ap := range want {
		k := ap.String()
		wanted[k] = true
		d := Destination{Address: ap.Addr(), Port: ap.Port(), Weight: 1}
		cur, ok := kv.dests[k]
		switch {
		case !ok:
			if err := b.k.IPVS.AddDestination(kv.svc, d); err != nil {
				return fmt.Errorf("add real server %s to %s: %w", k, key, err)
			}
			b.log.Debug("real server added", "virtualService", key, "realServer", k)
		case cur.Weight != 1:
			if err := b.k.IPVS.UpdateDestination(kv.svc, d); err != nil {
				return fmt.Errorf("update real server %s of %s: %w", k, key, err)
			}
			delete(b.draining[key], k)
		default:
			continue
		}
		kv.dests[k] = d
	}
	var gone []string
	for k := range kv.dests {
		if !wanted[k] && !b.draining[key][k] {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	return b.removeDests(key, kv, gone)
}

// gracefulProtocol says whether removed real servers of the protocol
// drain (TCP) or go at once (UDP, SCTP: expire_nodest_conn ends their
// flows at the next packet), as kube-proxy's graceful termination does.
func gracefulProtocol(p string) bool { return p == "TCP" }

// removeDests removes real servers: those with connections go to weight
// 0 and drain, the others are deleted.
func (b *Backend) removeDests(key string, kv *kernelVS, gone []string) error {
	if len(gone) == 0 {
		return nil
	}
	conns := map[string]int{}
	if gracefulProtocol(kv.svc.Protocol) {
		cur, err := b.k.IPVS.Destinations(kv.svc)
		if err != nil {
			return fmt.Errorf("list real servers of %s: %w", key, err)
		}
		for _, d := range cur {
			conns[d.Key()] = d.ActiveConn + d.InactConn
		}
	}
	for _, k := range gone {
		d := kv.dests[k]
		if conns[k] == 0 {
			if err := b.k.IPVS.DeleteDestination(kv.svc, d); err != nil {
				return fmt.Errorf("delete real server %s of %s: %w", k, key, err)
			}
			delete(kv.dests, k)
			b.log.Debug("real server deleted", "virtualService", key, "realServer", k)
			continue
		}
		d.Weight = 0
		if err := b.k.IPVS.UpdateDestination(kv.svc, d); err != nil {
			return fmt.Errorf("drain real server %s of %s: %w", k, key, err)
		}
		kv.dests[k] = d
		if b.draining[key] == nil {
			b.draining[key] = map[string]bool{}
		}
		b.draining[key][k] = true
		b.log.Debug("real server draining", "virtualService", key, "realServer", k, "connections", conns[k])
	}
	return nil
}

// drain deletes the draining real servers whose connections have ended.
func (b *Backend) drain() []error {
	var errs []error
	for key, ks := range b.draining {
		kv := b.kvs[key]
		if kv == nil {
			delete(b.draining, key)
			continue
		}
		cur, err := b.k.IPVS.Destinations(kv.svc)
		if err != nil {
			errs = append(errs, fmt.Errorf("list real servers of %s: %w", key, err))
			continue
		}
		present := map[string]Destination{}
		for _, d := range cur {
			present[d.Key()] = d
		}
		for k := range ks {
			d, ok := present[k]
			switch {
			case !ok:
				delete(ks, k)
				delete(kv.dests, k)
			case d.ActiveConn+d.InactConn == 0:
				if err := b.k.IPVS.DeleteDestination(kv.svc, d); err != nil {
					errs = append(errs, fmt.Errorf("delete drained real server %s of %s: %w", k, key, err))
					continue
				}
				delete(ks, k)
				delete(kv.dests, k)
			}
		}
		if len(ks) == 0 {
			delete(b.draining, key)
		}
	}
	return errs
}

// prepare is a full sync's first step: sysctls, kube-ipvs0 and the sets
// exist, the node's addresses are known, and the kernel's state of the
// mode is read.
func (b *Backend) prepare(st *proxy.State) error {
	b.sysctls()
	b.timeouts()
	if err := b.k.Links.EnsureDummy(DummyDevice); err != nil {
		return fmt.Errorf("create %s: %w", DummyDevice, err)
	}
	for _, s := range setsFor(b.cfg.Family) {
		if err := b.k.Sets.EnsureSet(s); err != nil {
			return fmt.Errorf("create ipset %s: %w", s.Name, err)
		}
	}
	local, err := b.k.Links.LocalAddrs(DummyDevice)
	if err != nil {
		return fmt.Errorf("list node addresses: %w", err)
	}
	b.nodeAddresses(st, local)
	return b.readKernel()
}

// sysctls sets what kube-proxy's IPVS mode needs: conntrack for IPVS
// connections (so masquerading rules apply), forwarding, and expiring
// connections to removed real servers.
func (b *Backend) sysctls() {
	if b.k.Sysctl == nil {
		return
	}
	for _, s := range b.wantSysctls() {
		if err := b.k.Sysctl(s[0], s[1]); err != nil {
			b.log.Warn("sysctl", "name", s[0], "value", s[1], "err", err)
		}
	}
}

// wantSysctls are the sysctls full syncs set: kube-proxy's, with
// strictARP's two when it is on.
func (b *Backend) wantSysctls() [][2]string {
	want := [][2]string{
		{"net/ipv4/vs/conntrack", "1"},
		{"net/ipv4/vs/expire_nodest_conn", "1"},
		{"net/ipv4/vs/expire_quiescent_template", "1"},
		{"net/ipv4/ip_forward", "1"},
	}
	if b.cfg.StrictARP {
		want = append(want, [2]string{"net/ipv4/conf/all/arp_ignore", "1"}, [2]string{"net/ipv4/conf/all/arp_announce", "2"})
	}
	return want
}

// timeouts sets the configured IPVS timeouts where the kernel's differ
// (a failure is logged, as kube-proxy does, and tried again at the next
// full sync).
func (b *Backend) timeouts() {
	want := b.cfg.Timeouts
	if want == (Timeouts{}) {
		return
	}
	have, err := b.k.IPVS.Timeouts()
	if err != nil {
		b.log.Warn("read IPVS timeouts", "err", err)
		return
	}
	if (want.TCP == 0 || want.TCP == have.TCP) && (want.TCPFin == 0 || want.TCPFin == have.TCPFin) && (want.UDP == 0 || want.UDP == have.UDP) {
		return
	}
	if err := b.k.IPVS.SetTimeouts(want); err != nil {
		b.log.Warn("set IPVS timeouts", "tcp", want.TCP, "tcpFin", want.TCPFin, "udp", want.UDP, "err", err)
		return
	}
	b.log.Info("IPVS timeouts set", "tcp", want.TCP, "tcpFin", want.TCPFin, "udp", want.UDP)
}

// nodeAddresses finds the addresses NodePorts answer on
// (nodePortAddresses, else every address of the node but loopback and
// link-local ones) and the node's own addresses (not bound to kube-ipvs0).
func (b *Backend) nodeAddresses(st *proxy.State, local []netip.Addr) {
	b.nodeAddrs = map[netip.Addr]bool{}
	var all []netip.Addr
	for _, ip := range append(append([]netip.Addr{}, st.Node.IPs...), local...) {
		if familyOf(ip) == b.cfg.Family && !b.nodeAddrs[ip] {
			b.nodeAddrs[ip] = true
			all = append(all, ip)
		}
	}
	b.nodePortIPs = nil
	if st.Options.NodePortAddresses != nil {
		for _, ip := range st.Options.NodePortAddresses {
			if familyOf(ip) == b.cfg.Family {
				b.nodePortIPs = append(b.nodePortIPs, ip)
			}
		}
		return
	}
	for _, ip := range all {
		if !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
			b.nodePortIPs = append(b.nodePortIPs, ip)
		}
	}
}

// readKernel reads the mode's state: the addresses of kube-ipvs0, the
// entries of its sets, and its virtual services (those on kube-ipvs0's
// addresses, those it programmed, and NodePort services on node
// addresses at ports of its NodePort sets) with their real servers.
func (b *Backend) readKernel() error {
	addrs, err := b.k.Links.Addrs(DummyDevice)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", DummyDevice, err)
	}
	b.kaddrs = map[netip.Addr]bool{}
	for _, a := range addrs {
		if familyOf(a) == b.cfg.Family {
			b.kaddrs[a] = true
		}
	}
	b.kentries = map[string]map[string]bool{}
	for _, s := range setsFor(b.cfg.Family) {
		es, err := b.k.Sets.Entries(s.Name)
		if err != nil {
			return fmt.Errorf("list ipset %s: %w", s.Name, err)
		}
		b.kentries[s.Name] = map[string]bool{}
		for _, e := range es {
			b.kentries[s.Name][e] = true
		}
	}
	return b.readVirtuals()
}

func (b *Backend) readVirtuals() error {
	svcs, err := b.k.IPVS.Services()
	if err != nil {
		return fmt.Errorf("list virtual services: %w", err)
	}
	old := b.kvs
	b.kvs = map[string]*kernelVS{}
	for _, s := range svcs {
		if familyOf(s.Address) != b.cfg.Family || !(b.kaddrs[s.Address] || old[s.Key()] != nil || b.isNodePort(s)) {
			continue
		}
		ds, err := b.k.IPVS.Destinations(s)
		if err != nil {
			return fmt.Errorf("list real servers of %s: %w", s.Key(), err)
		}
		kv := &kernelVS{svc: s, dests: map[string]Destination{}}
		for _, d := range ds {
			kv.dests[d.Key()] = d
		}
		b.kvs[s.Key()] = kv
	}
	for key := range b.draining {
		if b.kvs[key] == nil {
			delete(b.draining, key)
		}
	}
	return nil
}

// isNodePort says whether s is on a node address at a port of the
// kernel's NodePort sets (one the mode made).
func (b *Backend) isNodePort(s Service) bool {
	if !b.nodeAddrs[s.Address] {
		return false
	}
	port := fmt.Sprint(s.Port)
	switch s.Protocol {
	case "TCP":
		return b.kentries[setName(setNodePortTCP, b.cfg.Family)][port]
	case "UDP":
		return b.kentries[setName(setNodePortUDP, b.cfg.Family)][port]
	case "SCTP":
		return b.kentries[setName(setNodePortSCTP, b.cfg.Family)][s.Address.String()+",sctp:"+port]
	}
	return false
}
