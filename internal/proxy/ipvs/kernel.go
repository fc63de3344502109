package ipvs

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/svcplane/svcplane/internal/proxy/iptables"
)

// DummyDevice is the interface every Service address is bound to.
const DummyDevice = "kube-ipvs0"

// Service flags, as the kernel (and ipvsadm) names them.
const (
	// FlagPersistent is ClientIP affinity: a client keeps its real server
	// for Timeout seconds.
	FlagPersistent uint32 = 0x1
	// FlagHashed is set by the kernel on every service it lists.
	FlagHashed uint32 = 0x2
	// FlagSchedMHPort (IP_VS_SVC_F_SCHED2) makes mh hash the source port
	// too; kube-proxy always sets it with mh.
	FlagSchedMHPort uint32 = 0x10
)

// Service is an IPVS virtual service.
type Service struct {
	// Protocol is "TCP", "UDP" or "SCTP".
	Protocol  string
	Address   netip.Addr
	Port      uint16
	Scheduler string
	Flags     uint32
	// Timeout is the persistence timeout in seconds (FlagPersistent).
	Timeout uint32
}

// Key names the service: "TCP/10.96.0.1:443".
func (s Service) Key() string {
	return s.Protocol + "/" + netip.AddrPortFrom(s.Address, s.Port).String()
}

// same says whether s and o are programmed alike (the kernel adds
// FlagHashed).
func (s Service) same(o Service) bool {
	return s.Scheduler == o.Scheduler && s.Flags&^FlagHashed == o.Flags&^FlagHashed && s.Timeout == o.Timeout
}

// Destination is a real server of a virtual service.
type Destination struct {
	Address netip.Addr
	Port    uint16
	Weight  int
	// ActiveConn and InactConn are the kernel's connection counts.
	ActiveConn, InactConn int
}

// Key is "ip:port".
func (d Destination) Key() string { return netip.AddrPortFrom(d.Address, d.Port).String() }

// IPVS reaches the kernel's IPVS tables (moby/ipvs's operations).
type IPVS interface {
	Services() ([]Service, error)
	AddService(Service) error
	UpdateService(Service) error
	DeleteService(Service) error
	Destinations(Service) ([]Destination, error)
	AddDestination(Service, Destination) error
	UpdateDestination(Service, Destination) error
	DeleteDestination(Service, Destination) error
	// Version is the first line of /proc/net/ip_vs ("IP Virtual Server
	// version 1.2.1 (size=4096)").
	Version() string
	// Timeouts reads the network namespace's IPVS timeouts.
	Timeouts() (Timeouts, error)
	// SetTimeouts sets them; a zero field leaves that timeout as it is.
	SetTimeouts(Timeouts) error
}

// Timeouts are IPVS's idle timeouts of a connection (`ipvsadm --set tcp
// tcpfin udp`; the kernel's defaults are 900 s, 120 s and 300 s). The
// kernel keeps whole seconds.
type Timeouts struct {
	// TCP is an established TCP connection's.
	TCP time.Duration
	// TCPFin is a TCP connection's after a FIN.
	TCPFin time.Duration
	// UDP is a UDP flow's.
	UDP time.Duration
}

// SetSpec describes an ipset.
type SetSpec struct {
	Name string
	// Type is "hash:ip,port", "hash:ip,port,ip", "hash:ip,port,net",
	// "bitmap:port" or "hash:ip".
	Type    string
	Comment string
	// IPv6 makes a family inet6 set.
	IPv6 bool
}

// IPSets reaches the kernel's ipsets. Entries are written as `ipset save`
// writes them: "10.96.0.1,tcp:443", "10.244.0.5,tcp:80,10.244.0.5",
// "1.2.3.4,tcp:80,203.0.113.0/25", "30080", "10.96.0.1".
type IPSets interface {
	// EnsureSet creates the set unless it exists.
	EnsureSet(SetSpec) error
	// DestroySet removes the set; a missing set is not an error.
	DestroySet(name string) error
	// Sets lists the names of the sets.
	Sets() ([]string, error)
	Entries(name string) ([]string, error)
	AddEntry(name, entry string) error
	DelEntry(name, entry string) error
}

// Links reaches the dummy interface and the node's addresses.
type Links interface {
	// EnsureDummy creates the dummy interface (up) unless it exists.
	EnsureDummy(name string) error
	// DeleteLink removes the interface; a missing one is not an error.
	DeleteLink(name string) error
	// Addrs lists the addresses of the interface (none when it is missing).
	Addrs(name string) ([]netip.Addr, error)
	AddAddr(name string, a netip.Addr) error
	DelAddr(name string, a netip.Addr) error
	// LocalAddrs lists the addresses of every interface but except.
	LocalAddrs(except string) ([]netip.Addr, error)
	// Exists says whether the interface exists.
	Exists(name string) bool
}

// Kernel is everything the backend touches.
type Kernel struct {
	IPVS  IPVS
	Sets  IPSets
	Links Links
	// IPTables runs the iptables tools named by Tools.
	IPTables iptables.Exec
	Tools    iptables.Tools
	// Sysctl sets a sysctl ("net/ipv4/vs/conntrack", "1"); nil skips.
	Sysctl func(name, value string) error
	// Close releases the kernel handles; nil when there are none.
	Close func()
}

func (k Kernel) validate() error {
	if k.IPVS == nil || k.Sets == nil || k.Links == nil || k.IPTables == nil {
		return fmt.Errorf("ipvs: kernel access incomplete (IPVS, Sets, Links and IPTables are required)")
	}
	return nil
}
