package hostport

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/netns"
)

// TestKernelHostPorts maps the hostPorts of upstream's HostPort
// conformance spec in throwaway namespaces (a node with the pod bridge, a
// pod on it) and connects from the node as the spec does: to 127.0.0.1
// from the node's address, to the node's address over TCP and UDP, and
// to 127.0.0.1 from 127.0.0.1 (route_localnet and masquerade).
func TestKernelHostPorts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft")
	}
	node, pod := testNamespaces(t)
	gw := netip.MustParsePrefix("10.244.9.1/24")
	podIP := netip.MustParseAddr("10.244.9.2")
	if err := netns.Do(node, func() error { return netns.Netlink{}.EnsureBridge(netns.Bridge{Name: netns.BridgeName, Gateway: gw}) }); err != nil {
		t.Fatal(err)
	}
	link := netns.PodLink{NetnsPath: pod, HostVeth: "vethhp", Bridge: netns.BridgeName, Address: netip.PrefixFrom(podIP, 24), Gateway: gw.Addr()}
	if err := netns.Do(node, func() error { return netns.Netlink{}.AttachPod(link) }); err != nil {
		t.Fatal(err)
	}
	serve(t, pod, "tcp", ":8080", "pod1")
	serve(t, pod, "tcp", ":8081", "pod2")
	serve(t, pod, "udp", ":8080", "pod3")
	nodeIP := gw.Addr().String()
	var ms []Mapping
	for _, p := range []struct {
		hostIP string
		port   int32
		proto  corev1.Protocol
	}{{"127.0.0.1", 8080, corev1.ProtocolTCP}, {nodeIP, 8081, corev1.ProtocolTCP}, {nodeIP, 8080, corev1.ProtocolUDP}} {
		ms = append(ms, Mapping{Protocol: p.proto, HostIP: netip.MustParseAddr(p.hostIP), HostPort: 54323, PodIP: podIP, ContainerPort: p.port})
	}
	sync := func(ms []Mapping) error {
		return netns.Do(node, func() error {
			tab, err := Open(netns.BridgeName, nil)
			if err != nil {
				return err
			}
			return tab.Sync(context.Background(), ms)
		})
	}
	if err := sync(ms); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ network, from, to, want string }{
		{"tcp", nodeIP, "127.0.0.1:54323", "pod1"},
		{"tcp", "", "127.0.0.1:54323", "pod1"},
		{"tcp", "", nodeIP + ":54323", "pod2"},
		{"udp", "", nodeIP + ":54323", "pod3"},
	} {
		if got, err := ask(node, tc.network, tc.from, tc.to); err != nil || got != tc.want {
			t.Errorf("%s from %q to %s: %q, %v; want %q", tc.network, tc.from, tc.to, got, err, tc.want)
		}
	}
	if err := sync(nil); err != nil {
		t.Fatal(err)
	}
	if got, err := ask(node, "tcp", "", nodeIP+":54323"); err == nil {
		t.Errorf("after removal: %q", got)
	}
}

func testNamespaces(t *testing.T) (node, pod string) {
	dir := netns.NewDir(t.TempDir())
	prefix := fmt.Sprintf("sp-hp%d-", os.Getpid())
	t.Cleanup(func() { _ = unix.Unmount(dir.Root, unix.MNT_DETACH) })
	t.Cleanup(func() {
		if _, err := netns.Sweep(dir, prefix); err != nil {
			t.Error(err)
		}
	})
	var err error
	if node, err = dir.Create(prefix + "node"); err != nil {
		t.Fatal(err)
	}
	if pod, err = dir.Create(prefix + "pod"); err != nil {
		t.Fatal(err)
	}
	return node, pod
}

// serve answers every TCP connection or UDP datagram in namespace ns
// with name.
func serve(t *testing.T, ns, network, addr, name string) {
	t.Helper()
	var closer io.Closer
	err := netns.Do(ns, func() error {
		if network == "udp" {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return err
			}
			closer = pc
			go func() {
				buf := make([]byte, 512)
				for {
					_, from, err := pc.ReadFrom(buf)
					if err != nil {
						return
					}
					_, _ = pc.WriteTo([]byte(name), from)
				}
			}()
			return nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		closer = ln
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				_, _ = c.Write([]byte(name))
				c.Close()
			}
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closer.Close() })
}

// ask connects from namespace ns (from the local address from, if set),
// sends a line and reads the answer.
func ask(ns, network, from, to string) (string, error) {
	var got string
	err := netns.Do(ns, func() error {
		d := net.Dialer{Timeout: 3 * time.Second}
		if from != "" {
			d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
		}
		c, err := d.Dial(network, to)
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(3 * time.Second))
		if _, err := c.Write([]byte("hostname\n")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		got = string(buf[:n])
		return err
	})
	return got, err
}
