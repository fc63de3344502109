package libcnslookup

import (
	"bufio"
	"net/netip"
	"os"
	"strings"
)

// hostsLine is one line of /etc/hosts: an address and its names.
type hostsLine struct {
	addr  netip.Addr
	names []string
}

// readHosts parses a hosts file; a missing file has no lines.
func readHosts(path string) []hostsLine {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []hostsLine
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) < 2 {
			continue
		}
		a, err := netip.ParseAddr(fields[0])
		if err != nil {
			continue
		}
		lines = append(lines, hostsLine{addr: a.Unmap(), names: fields[1:]})
	}
	return lines
}

// hostsAddrs is every address the hosts file gives name.
func (r *resolver) hostsAddrs(name string) []netip.Addr {
	name = strings.TrimSuffix(name, ".")
	var addrs []netip.Addr
	for _, l := range r.hosts {
		for _, n := range l.names {
			if strings.EqualFold(n, name) {
				addrs = append(addrs, l.addr)
				break
			}
		}
	}
	return addrs
}

// hostsName is the first name of the first line for addr.
func (r *resolver) hostsName(addr netip.Addr) string {
	for _, l := range r.hosts {
		if l.addr == addr {
			return l.names[0]
		}
	}
	return ""
}
