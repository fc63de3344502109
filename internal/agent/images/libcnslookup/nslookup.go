// Package libcnslookup is busybox 1.28's nslookup, the one the Kubernetes
// tutorials show. Busybox up to 1.28 resolved through the C library, so
// this one follows glibc's resolver: /etc/hosts first, then the
// resolv.conf search list with ndots, A and AAAA for each name, stopping
// at the first name that answers; every address is named by a reverse
// lookup. svcplane runs it as the nslookup of busybox:1.28 and older
// images (newer tags run busybox's own nslookup).
package libcnslookup

import (
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
)

// Config says where the applet reads its files and writes its output.
type Config struct {
	// ResolvConf and Hosts default to /etc/resolv.conf and /etc/hosts.
	ResolvConf string
	Hosts      string
	// Port is the DNS port of resolv.conf's servers ("53").
	Port string
	// Usable says whether an address can be reached from here; libc
	// sorts unusable addresses last. Default: a UDP connect succeeds.
	Usable         func(netip.Addr) bool
	Stdout, Stderr io.Writer
}

const usage = `BusyBox v1.28.4 (svcplane) multi-call binary.

Usage: nslookup [HOST] [SERVER]

Query the nameserver for the IP address of the given HOST
optionally using a specified DNS server
`

// Main is `nslookup [HOST] [SERVER]`; it returns the exit code.
func Main(cfg Config, args []string) int {
	cfg = cfg.withDefaults()
	if len(args) == 1 && args[0] == "--help" {
		fmt.Fprint(cfg.Stdout, usage)
		return 0
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") || len(args) > 2 {
		fmt.Fprint(cfg.Stderr, usage)
		return 1
	}
	r := newResolver(cfg)
	if len(args) == 2 {
		server, ok := r.parseServer(args[1])
		if !ok {
			fmt.Fprintf(cfg.Stderr, "nslookup: bad address '%s'\n", args[1])
			return 1
		}
		r.servers = []netip.AddrPort{server}
	}
	server := r.servers[0].Addr().String()
	r.print("Server:", server, []netip.Addr{r.servers[0].Addr()})
	fmt.Fprintln(cfg.Stdout)
	addrs := r.lookupHost(args[0])
	if len(addrs) == 0 {
		fmt.Fprintf(cfg.Stderr, "nslookup: can't resolve '%s'\n", args[0])
		return 1
	}
	r.print("Name:", args[0], addrs)
	return 0
}

// print writes a header line and one numbered line per address, each
// with its reverse name when it has one.
func (r *resolver) print(header, name string, addrs []netip.Addr) {
	fmt.Fprintf(r.cfg.Stdout, "%-10s %s\n", header, name)
	for i, a := range addrs {
		line := fmt.Sprintf("Address %d: %s", i+1, a)
		if ptr := r.lookupAddr(a); ptr != "" {
			line += " " + ptr
		}
		fmt.Fprintln(r.cfg.Stdout, line)
	}
}

func (c Config) withDefaults() Config {
	if c.ResolvConf == "" {
		c.ResolvConf = "/etc/resolv.conf"
	}
	if c.Hosts == "" {
		c.Hosts = "/etc/hosts"
	}
	if c.Port == "" {
		c.Port = "53"
	}
	if c.Usable == nil {
		c.Usable = routable
	}
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	return c
}

// routable is what libc asks before sorting: can a UDP socket connect
// to the address (no packet is sent)?
func routable(a netip.Addr) bool {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(netip.AddrPortFrom(a, 53)))
	if err != nil {
		return false
	}
	c.Close()
	return true
}
