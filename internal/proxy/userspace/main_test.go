package userspace

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/proxy"
)

// inNetnsEnv marks the test process that runs in a network namespace of
// its own.
const inNetnsEnv = "SVCPLANE_USERSPACE_TEST_NETNS"

// TestMain runs the package's tests again in a network namespace of their
// own (`unshare --net`, so nothing outlives the process) when it can (as
// root); every socket and the dummy interface then live there, and the
// threads that dial endpoints need no setns.
func TestMain(m *testing.M) {
	if os.Getenv(inNetnsEnv) == "" && os.Geteuid() == 0 {
		if _, err := exec.LookPath("unshare"); err == nil {
			cmd := exec.Command("unshare", append([]string{"--net", "--", os.Args[0]}, os.Args[1:]...)...)
			cmd.Env = append(os.Environ(), inNetnsEnv+"=1")
			cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
			err := cmd.Run()
			var ee *exec.ExitError
			switch {
			case err == nil:
				os.Exit(0)
			case errors.As(err, &ee):
				os.Exit(ee.ExitCode())
			}
			fmt.Fprintln(os.Stderr, "unshare:", err)
			os.Exit(1)
		}
	}
	if os.Getenv(inNetnsEnv) != "" {
		// 192.168.0.2 is the node's address of the fixtures.
		for _, cmd := range [][]string{{"ip", "link", "set", "lo", "up"}, {"ip", "addr", "add", "192.168.0.2/32", "dev", "lo"}} {
			if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "%v: %v: %s\n", cmd, err, out)
				os.Exit(1)
			}
		}
	}
	os.Exit(m.Run())
}

// needNetns skips a test that binds addresses outside a namespace of its
// own.
func needNetns(t *testing.T) {
	t.Helper()
	if os.Getenv(inNetnsEnv) == "" {
		t.Skip("needs root and unshare (a network namespace of its own)")
	}
}

// newTestBackend is a backend whose node is 192.168.0.2, cleaned up with
// the test.
func newTestBackend(t *testing.T, cfg Config) *Backend {
	t.Helper()
	if cfg.LocalAddrs == nil {
		cfg.LocalAddrs = func() []netip.Addr { return []netip.Addr{netip.MustParseAddr("192.168.0.2")} }
	}
	cfg.Logger = slog.New(slog.DiscardHandler)
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Cleanup(context.Background()) })
	return b
}

// port is one service port of a test State.
type port struct {
	name      string // the Service's name in namespace ns
	proto     corev1.Protocol
	ip        string
	port      int32
	nodePort  int32
	eps       []string // ip:port, ready
	local     []string // ip:port, ready and on this node
	sched     string
	affinity  int32
	extLocal  bool
	extIPs    []string
	lbIPs     []string
	lbSources []string
}

func (p port) spn() proxy.ServicePortName {
	proto := p.proto
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	return proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: "ns", Name: p.name}, Port: "p", Protocol: proto}
}

// state builds a State of ports; changed names the changed ports of a
// partial State (nil: a full one).
func state(changed []string, ports ...port) *proxy.State {
	in := proxy.Input{
		Family:    corev1.IPv4Protocol,
		Node:      proxy.Node{Name: "node", IPs: []netip.Addr{netip.MustParseAddr("192.168.0.2")}},
		Options:   proxy.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}},
		Services:  map[proxy.ServicePortName]*proxy.ServicePort{},
		Endpoints: proxy.EndpointsMap{},
		Full:      changed == nil,
	}
	if changed != nil {
		in.Changed = map[proxy.ServicePortName]bool{}
		for _, c := range changed {
			in.Changed[port{name: c}.spn()] = true
			in.Changed[port{name: c, proto: corev1.ProtocolUDP}.spn()] = true
		}
	}
	for _, p := range ports {
		n := p.spn()
		sp := &proxy.ServicePort{Name: n, ClusterIP: netip.MustParseAddr(p.ip), Port: p.port, Protocol: n.Protocol,
			NodePort: p.nodePort, AffinitySeconds: p.affinity, Scheduler: p.sched}
		for _, a := range p.extIPs {
			sp.ExternalIPs = append(sp.ExternalIPs, netip.MustParseAddr(a))
		}
		for _, a := range p.lbIPs {
			sp.LoadBalancerVIPs = append(sp.LoadBalancerVIPs, netip.MustParseAddr(a))
		}
		for _, s := range p.lbSources {
			sp.LoadBalancerSourceRanges = append(sp.LoadBalancerSourceRanges, netip.MustParsePrefix(s))
		}
		sp.ExternalPolicyLocal = p.extLocal && sp.ExternallyAccessible()
		in.Services[n] = sp
		for _, list := range []struct {
			eps   []string
			local bool
		}{{p.eps, false}, {p.local, true}} {
			for _, e := range list.eps {
				ap := netip.MustParseAddrPort(e)
				in.Endpoints[n] = append(in.Endpoints[n], proxy.Endpoint{IP: ap.Addr(), Port: int32(ap.Port()), Ready: true, Serving: true, Local: list.local, NodeName: "node"})
			}
		}
	}
	return proxy.Build(in)
}

// mustSync applies st or fails the test.
func mustSync(t *testing.T, b *Backend, st *proxy.State) {
	t.Helper()
	if err := b.Sync(context.Background(), st); err != nil {
		t.Fatal(err)
	}
}

// serveTCP runs an endpoint on addr that greets each connection with its
// address and a newline, then echoes.
func serveTCP(t *testing.T, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, addr+"\n")
				io.Copy(c, c)
			}()
		}
	}()
}

// serveUDP runs an endpoint on addr that answers each datagram with its
// address.
func serveUDP(t *testing.T, addr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			pc.WriteTo([]byte(addr), from)
		}
	}()
}

// conn is a client connection through the proxy.
type conn struct {
	net.Conn
	r *bufio.Reader
	// Greeting is the endpoint that answered.
	Greeting string
}

// dial connects to addr (from src, when not empty) and reads the
// endpoint's greeting.
func dial(addr, src string) (*conn, error) {
	d := net.Dialer{Timeout: 2 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp4", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	line, err := r.ReadString('\n')
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	return &conn{Conn: c, r: r, Greeting: strings.TrimSpace(line)}, nil
}

// echo sends s and reads it back.
func (c *conn) echo(s string) (string, error) {
	if _, err := io.WriteString(c, s+"\n"); err != nil {
		return "", err
	}
	line, err := c.r.ReadString('\n')
	return strings.TrimSpace(line), err
}

// greetings dials addr n times and counts the endpoints that answered.
func greetings(t *testing.T, addr, src string, n int) map[string]int {
	t.Helper()
	out := map[string]int{}
	for range n {
		c, err := dial(addr, src)
		if err != nil {
			t.Fatalf("dial %s: %v", addr, err)
		}
		out[c.Greeting]++
		c.Close()
	}
	return out
}
