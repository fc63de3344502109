// Command userspace measures the data path of the userspace proxy mode
// beside direct pod-to-pod traffic and the kernel modes (iptables,
// nftables): TCP throughput of a bulk transfer, and the latency of
// request/response round trips on one connection and with a new
// connection each, all between network namespaces it creates. See
// bench/README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// childEnv marks the re-executed bench that runs inside the node
// namespace, where the proxies run.
const childEnv = "SVCPLANE_BENCH_USERSPACE_NODE"

type options struct {
	duration time.Duration
	rounds   int
	rr, crr  int
	streams  int
	modes    string
	prefix   string
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "length of one bulk transfer")
	flag.IntVar(&o.rounds, "rounds", 3, "bulk transfers per mode (the median is printed)")
	flag.IntVar(&o.streams, "streams", 1, "connections of one bulk transfer, sending at once")
	flag.IntVar(&o.rr, "rr", 5000, "request/response round trips on one connection per mode")
	flag.IntVar(&o.crr, "crr", 1000, "connect/request/response/close round trips per mode")
	flag.StringVar(&o.modes, "modes", "direct,userspace,iptables,nftables", "what to measure; also userspace-inproc (the proxy in the bench's process), userspace-sockmap (relays handed to a BPF sockmap) and userspace/KEY=VALUE/... (the proxy process with these environment variables)")
	flag.StringVar(&o.prefix, "prefix", "", "namespace prefix (set by the bench for its child)")
	flag.Parse()
	var err error
	switch {
	case os.Getenv(proxyEnv) != "":
		err = runProxy(context.Background())
	case os.Getenv(childEnv) != "":
		err = runNode(context.Background(), o)
	default:
		err = runHost(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/userspace:", err)
		os.Exit(1)
	}
}

// runHost makes the namespaces, runs the bench again inside the node
// namespace and removes the namespaces, also on interrupt (which also
// ends the node process; its proxy process ends with it).
func runHost(o options) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root (network namespaces)")
	}
	b := make([]byte, 3)
	rand.Read(b)
	o.prefix = "svcplane-bench-us-" + hex.EncodeToString(b)
	defer deleteNamespaces(o.prefix)
	if err := makeNamespaces(o.prefix); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	args := []string{"netns", "exec", o.prefix + "-node", self, "-prefix", o.prefix,
		"-duration", o.duration.String(), "-rounds", fmt.Sprint(o.rounds), "-rr", fmt.Sprint(o.rr),
		"-crr", fmt.Sprint(o.crr), "-streams", fmt.Sprint(o.streams), "-modes", o.modes}
	cmd := exec.Command("ip", args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "XTABLES_LOCKFILE=/tmp/"+o.prefix+".xtables.lock")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	defer os.Remove("/tmp/" + o.prefix + ".xtables.lock")
	if err := cmd.Start(); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-sig
		cmd.Process.Kill()
		cmd.Wait()
		deleteNamespaces(o.prefix)
		os.Remove("/tmp/" + o.prefix + ".xtables.lock")
		os.Exit(1)
	}()
	return cmd.Wait()
}

// The addresses: a client pod and a server pod, each in a namespace
// veth'd to the node, which routes between them; the Service's cluster IP
// leads to the server.
const (
	clientIP  = "10.244.1.2"
	serverIP  = "10.244.2.2"
	clusterIP = "10.96.0.10"
	bulkPort  = 8080 // the server reads to EOF, then answers "ok"
	echoPort  = 8081 // the server echoes
)

func makeNamespaces(p string) error {
	node, client, server := p+"-node", p+"-client", p+"-server"
	steps := [][]string{
		{"netns", "add", node}, {"netns", "add", client}, {"netns", "add", server},
		{"-n", node, "link", "set", "lo", "up"}, {"-n", client, "link", "set", "lo", "up"}, {"-n", server, "link", "set", "lo", "up"},
		{"-n", node, "link", "add", "vc", "type", "veth", "peer", "name", "eth0", "netns", client},
		{"-n", node, "link", "add", "vs", "type", "veth", "peer", "name", "eth0", "netns", server},
		{"-n", node, "addr", "add", "10.244.1.1/24", "dev", "vc"}, {"-n", node, "link", "set", "vc", "up"},
		{"-n", node, "addr", "add", "10.244.2.1/24", "dev", "vs"}, {"-n", node, "link", "set", "vs", "up"},
		{"-n", node, "addr", "add", "10.240.0.2/32", "dev", "lo"},
		{"-n", client, "addr", "add", clientIP + "/24", "dev", "eth0"}, {"-n", client, "link", "set", "eth0", "up"},
		{"-n", client, "route", "add", "default", "via", "10.244.1.1"},
		{"-n", server, "addr", "add", serverIP + "/24", "dev", "eth0"}, {"-n", server, "link", "set", "eth0", "up"},
		{"-n", server, "route", "add", "default", "via", "10.244.2.1"},
		{"netns", "exec", node, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
	}
	for _, s := range steps {
		if out, err := exec.Command("ip", s...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	return nil
}

func deleteNamespaces(p string) {
	for _, r := range []string{"-client", "-server", "-node"} {
		exec.Command("ip", "netns", "delete", p+r).Run()
	}
}

func nsPath(name string) string { return "/run/netns/" + name }
