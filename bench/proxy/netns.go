package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/svcplane/svcplane/internal/netns"
)

// namespaces creates named network namespaces and removes every one it
// created: all traffic of the bench stays inside them.
type namespaces struct {
	prefix string
	lock   string // the xtables lock file of the bench's iptables tools
	mu     sync.Mutex
	seq    int
	live   map[string]bool
}

func newNamespaces() *namespaces {
	b := make([]byte, 3)
	rand.Read(b)
	prefix := "svcplane-bench-" + hex.EncodeToString(b) + "-"
	return &namespaces{prefix: prefix, lock: "/run/" + prefix + "xtables.lock", live: map[string]bool{}}
}

// add creates a namespace named after role. It is registered before it
// exists, so that an interrupt never leaks it.
func (s *namespaces) add(role string) (string, error) {
	s.mu.Lock()
	s.seq++
	name := fmt.Sprintf("%s%s%d", s.prefix, role, s.seq)
	s.live[name] = true
	s.mu.Unlock()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		s.del(name)
		return "", fmt.Errorf("ip netns add %s: %w: %s", name, err, strings.TrimSpace(string(out)))
	}
	return name, nil
}

// del removes a namespace (its rules and links go with it).
func (s *namespaces) del(name string) {
	exec.Command("ip", "netns", "del", name).Run()
	s.mu.Lock()
	delete(s.live, name)
	s.mu.Unlock()
}

// delAll removes every namespace still there.
func (s *namespaces) delAll() {
	s.mu.Lock()
	names := make([]string, 0, len(s.live))
	for n := range s.live {
		names = append(names, n)
	}
	s.mu.Unlock()
	for _, n := range names {
		s.del(n)
	}
	os.Remove(s.lock)
}

func nsPath(name string) string { return "/run/netns/" + name }

// nodeNS is a "node" namespace that holds the proxy's rules, joined by a
// veth pair to a "pod" namespace where every address of 10.244.0.0/16 is
// local and a listener answers on port 8080: every endpoint of every
// Service is real.
type nodeNS struct {
	name, pod string
	ln        net.Listener
}

// The veth pair: the node end holds the node IP; the pod end is its
// default gateway.
var wiring = [][]string{
	{"node", "link", "set", "lo", "up"},
	{"pod", "link", "set", "lo", "up"},
	{"node", "link", "add", "vnode", "type", "veth", "peer", "name", "vpod", "netns", "POD"},
	{"node", "addr", "add", nodeIP.String() + "/24", "dev", "vnode"},
	{"node", "link", "set", "vnode", "up"},
	{"pod", "addr", "add", "10.240.0.3/24", "dev", "vpod"},
	{"pod", "link", "set", "vpod", "up"},
	{"node", "route", "add", "default", "via", "10.240.0.3"},
	{"pod", "route", "add", "local", clusterCIDR.String(), "dev", "lo"},
}

// newNode creates and wires a node and pod namespace pair.
func (s *namespaces) newNode(ctx context.Context) (*nodeNS, error) {
	n := &nodeNS{}
	var err error
	if n.name, err = s.add("node"); err != nil {
		return nil, err
	}
	if n.pod, err = s.add("pod"); err != nil {
		s.del(n.name)
		return nil, err
	}
	if err := n.wire(ctx); err != nil {
		n.close(s)
		return nil, err
	}
	return n, nil
}

func (n *nodeNS) wire(ctx context.Context) error {
	for _, w := range wiring {
		ns := map[string]string{"node": n.name, "pod": n.pod}[w[0]]
		args := append([]string{"-n", ns}, w[1:]...)
		for i, a := range args {
			if a == "POD" {
				args[i] = n.pod
			}
		}
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
		}
	}
	err := netns.Do(nsPath(n.pod), func() error {
		var err error
		n.ln, err = net.Listen("tcp4", fmt.Sprintf("0.0.0.0:%d", endpointPort))
		return err
	})
	if err != nil {
		return fmt.Errorf("listen in %s: %w", n.pod, err)
	}
	go accept(n.ln)
	return nil
}

// accept takes connections and closes them: the handshake is all the
// bench measures.
func accept(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err == nil {
			c.Close()
		}
	}
}

// close stops the listener and removes both namespaces.
func (n *nodeNS) close(s *namespaces) {
	if n.ln != nil {
		n.ln.Close()
	}
	s.del(n.name)
	s.del(n.pod)
}
