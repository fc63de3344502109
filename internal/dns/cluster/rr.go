package cluster

// rr.go: resource record constructors, all class IN with the configured
// TTL unless said otherwise.

import (
	"net"
	"net/netip"

	mdns "github.com/miekg/dns"
)

// Fixed values of the answers, from the spec and CoreDNS.
const (
	schemaVersion = "1.1.0" // dns-version TXT
	versionTTL    = 28800   // dns-version TTL, as the spec's example
	soaRefresh    = 7200
	soaRetry      = 1800
	soaExpire     = 86400
	soaMaxTTL     = 300 // the SOA record's own TTL is min(ttl, 300)
)

// header returns an IN header for name and type t with the answer TTL.
func (c *Cluster) header(name string, t uint16) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: c.ttl}
}

// addressRR returns the A or AAAA record of name for ip.
func (c *Cluster) addressRR(name string, ip netip.Addr) mdns.RR {
	if ip.Is4() {
		return &mdns.A{Hdr: c.header(name, mdns.TypeA), A: net.IP(ip.AsSlice())}
	}
	return &mdns.AAAA{Hdr: c.header(name, mdns.TypeAAAA), AAAA: net.IP(ip.AsSlice())}
}

// srvRR returns an SRV record of name, priority 0, pointing at target.
func (c *Cluster) srvRR(name string, weight uint16, port int32, target string) *mdns.SRV {
	return &mdns.SRV{Hdr: c.header(name, mdns.TypeSRV), Weight: weight, Port: uint16(port), Target: target}
}

// cnameRR returns the CNAME record of name to target.
func (c *Cluster) cnameRR(name, target string) mdns.RR {
	return &mdns.CNAME{Hdr: c.header(name, mdns.TypeCNAME), Target: target}
}

// ptrRR returns the PTR record of name to target.
func (c *Cluster) ptrRR(name, target string) mdns.RR {
	return &mdns.PTR{Hdr: c.header(name, mdns.TypePTR), Ptr: target}
}

// versionRR returns the schema version TXT record of name.
func versionRR(name string) mdns.RR {
	return &mdns.TXT{
		Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeTXT, Class: mdns.ClassINET, Ttl: versionTTL},
		Txt: []string{schemaVersion},
	}
}

// soaRR returns the SOA of zone, as CoreDNS: minimum TTL the answer TTL,
// its own TTL at most 300, the serial the time of the last change. The
// cluster zone's is made once per serial and shared (records are never
// changed once answered).
func (c *Cluster) soaRR(zone string) mdns.RR {
	serial := c.idx.soaSerial()
	if zone != c.zone {
		return c.newSOA(zone, serial)
	}
	if rr := c.soa.Load(); rr != nil && rr.Serial == serial {
		return rr
	}
	rr := c.newSOA(zone, serial)
	c.soa.Store(rr)
	return rr
}

func (c *Cluster) newSOA(zone string, serial uint32) *mdns.SOA {
	h := c.header(zone, mdns.TypeSOA)
	h.Ttl = min(c.ttl, soaMaxTTL)
	return &mdns.SOA{
		Hdr:     h,
		Ns:      "ns.dns." + zone,
		Mbox:    "hostmaster." + zone,
		Serial:  serial,
		Refresh: soaRefresh,
		Retry:   soaRetry,
		Expire:  soaExpire,
		Minttl:  c.ttl,
	}
}
