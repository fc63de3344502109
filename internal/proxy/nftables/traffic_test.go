package nftables

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// TestKernelTraffic sends real TCP and UDP packets through the rules in a
// throwaway namespace: the node's own traffic to a cluster IP is DNATed to
// a listener on a local address standing for the endpoint.
func TestKernelTraffic(t *testing.T) {
	ctx := context.Background()
	inTestNetns(t, func() error {
		for _, cmd := range [][]string{
			{"ip", "link", "set", "lo", "up"},
			{"ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"},
			{"ip", "link", "set", "v0", "up"},
			{"ip", "link", "set", "v1", "up"},
			{"ip", "addr", "add", "10.240.0.2/24", "dev", "v0"},
			{"ip", "addr", "add", "10.244.0.5/32", "dev", "v0"},
			{"ip", "route", "add", "10.96.0.0/12", "dev", "v0"},
		} {
			if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
				return fmt.Errorf("%v: %v: %s", cmd, err, out)
			}
		}
		b, err := kernelBackend(corev1.IPv4Protocol)
		if err != nil {
			return err
		}
		defer b.Cleanup(ctx)
		for _, proto := range []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP} {
			name := proxy.ServicePortName{Port: "p", Protocol: proto}
			name.Namespace, name.Name = "ns", "svc"
			sp := &proxy.ServicePort{Name: name, ClusterIP: netip.MustParseAddr("10.96.0.10"), Port: 53, Protocol: proto}
			st := proxy.Build(proxy.Input{
				Family:    corev1.IPv4Protocol,
				Node:      proxy.Node{Name: "n", IPs: []netip.Addr{netip.MustParseAddr("10.240.0.2")}},
				Options:   proxy.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}},
				Services:  map[proxy.ServicePortName]*proxy.ServicePort{name: sp},
				Endpoints: proxy.EndpointsMap{name: {{IP: netip.MustParseAddr("10.244.0.5"), Port: 9376, Ready: true, Serving: true}}},
				Full:      true,
			})
			if err := b.Sync(ctx, st); err != nil {
				return err
			}
			if got := roundTrip(proto); got != "pong" {
				t.Errorf("%s through the cluster IP: got %q", proto, got)
			}
		}
		return nil
	})
}

// roundTrip serves one exchange on the endpoint and asks through the
// cluster IP; it returns the answer or what went wrong. (It runs inside
// netns.Do's goroutine, where t.Fatal must not be called.)
func roundTrip(proto corev1.Protocol) string {
	buf := make([]byte, 16)
	if proto == corev1.ProtocolUDP {
		srv, err := net.ListenPacket("udp4", "10.244.0.5:9376")
		if err != nil {
			return err.Error()
		}
		defer srv.Close()
		go func() {
			in := make([]byte, 16)
			n, from, err := srv.ReadFrom(in)
			if err == nil && string(in[:n]) == "ping" {
				srv.WriteTo([]byte("pong"), from)
			}
		}()
		c, err := net.Dial("udp4", "10.96.0.10:53")
		if err != nil {
			return err.Error()
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(2 * time.Second))
		c.Write([]byte("ping"))
		n, _ := c.Read(buf)
		return string(buf[:n])
	}
	ln, err := net.Listen("tcp4", "10.244.0.5:9376")
	if err != nil {
		return err.Error()
	}
	defer ln.Close()
	go func() {
		if c, err := ln.Accept(); err == nil {
			c.Write([]byte("pong"))
			c.Close()
		}
	}()
	c, err := net.DialTimeout("tcp4", "10.96.0.10:53", 2*time.Second)
	if err != nil {
		return err.Error()
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	n, _ := c.Read(buf)
	return string(buf[:n])
}
