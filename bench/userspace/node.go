package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables"
	"github.com/svcplane/svcplane/internal/proxy/nftables"
	"github.com/svcplane/svcplane/internal/proxy/userspace"
)

// runNode runs in the node namespace: it starts the server pod's
// listeners, then measures each mode from the client pod.
func runNode(ctx context.Context, o options) error {
	if err := netns.Do(nsPath(o.prefix+"-server"), startServers); err != nil {
		return err
	}
	client := nsPath(o.prefix + "-client")
	modes := strings.Split(o.modes, ",")
	rows := make([]result, len(modes))
	// The bulk transfers go round the modes in turn, so that the
	// machine's load falls on all of them alike; then the latencies.
	for round := range o.rounds + 1 {
		for i, m := range modes {
			rows[i].mode = m
			err := inMode(ctx, m, func(target string, proxyCPU func() time.Duration) error {
				return netns.Do(client, func() error {
					if round == o.rounds {
						return rows[i].latencies(target, o)
					}
					return rows[i].bulk(target, o, proxyCPU)
				})
			})
			if err != nil {
				return fmt.Errorf("%s: %w", m, err)
			}
		}
	}
	report(rows)
	return nil
}

// inMode programs the Service with mode m (nothing for direct), runs fn
// with the address to reach the server at and the CPU time of the proxy
// process (userspace; 0 for the other modes), and removes the rules.
func inMode(ctx context.Context, m string, fn func(target string, proxyCPU func() time.Duration) error) error {
	// Every mode is also charged the kernel workers' CPU.
	inner := fn
	fn = func(target string, proxyCPU func() time.Duration) error {
		return inner(target, func() time.Duration { return proxyCPU() + kworkerCPU() })
	}
	target := clusterIP
	var b proxy.Backend
	var err error
	quiet := slog.New(slog.DiscardHandler)
	// userspace/KEY=VALUE/...: the proxy process with these environment
	// variables (GOMAXPROCS=1, GODEBUG=...).
	if env, ok := strings.CutPrefix(m, "userspace/"); ok {
		return inProxyProcess(fn, strings.Split(env, "/")...)
	}
	switch m {
	case "direct":
		target = serverIP
	case "userspace":
		return inProxyProcess(fn)
	case "userspace-sockmap":
		return inProxyProcess(fn, "SVCPLANE_BENCH_SOCKMAP=1")
	case "userspace-inproc":
		b, err = userspace.New(userspace.Config{Logger: quiet})
	case "iptables":
		b, err = iptables.New(ctx, iptables.Config{IPTablesBackend: iptables.BackendLegacy, Logger: quiet})
	case "nftables":
		b, err = nftables.New(nftables.Config{Logger: quiet})
	default:
		return fmt.Errorf("unknown mode")
	}
	if err != nil {
		return err
	}
	if b != nil {
		defer b.Cleanup(ctx)
		if err := b.Sync(ctx, serviceState()); err != nil {
			return err
		}
	}
	return fn(target, func() time.Duration { return 0 })
}

// inProxyProcess runs fn with the userspace proxy in a process of its
// own.
func inProxyProcess(fn func(target string, proxyCPU func() time.Duration) error, env ...string) error {
	p, err := startProxy(env...)
	if err != nil {
		return err
	}
	err = fn(clusterIP, p.cpu)
	if serr := p.stop(); err == nil {
		err = serr
	}
	return err
}

// serviceState is one Service with two ports (bulk 80 -> 8080, echo
// 81 -> 8081) and the server as their endpoint.
func serviceState() *proxy.State {
	in := proxy.Input{
		Family:    corev1.IPv4Protocol,
		Node:      proxy.Node{Name: "node", IPs: []netip.Addr{netip.MustParseAddr("10.240.0.2")}},
		Options:   proxy.Options{ClusterCIDRs: []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")}, MasqueradeBit: 14},
		Services:  map[proxy.ServicePortName]*proxy.ServicePort{},
		Endpoints: proxy.EndpointsMap{},
		Full:      true,
	}
	for _, p := range []struct {
		name         string
		port, target int32
	}{{"bulk", 80, bulkPort}, {"echo", 81, echoPort}} {
		n := proxy.ServicePortName{NamespacedName: types.NamespacedName{Namespace: "bench", Name: "server"}, Port: p.name, Protocol: corev1.ProtocolTCP}
		in.Services[n] = &proxy.ServicePort{Name: n, ClusterIP: netip.MustParseAddr(clusterIP), Port: p.port, Protocol: corev1.ProtocolTCP}
		in.Endpoints[n] = []proxy.Endpoint{{IP: netip.MustParseAddr(serverIP), Port: p.target, Ready: true, Serving: true}}
	}
	return proxy.Build(in)
}

// port is the Service port (or the server's, direct) of a server port.
func port(target string, serverPort int) int {
	if target == serverIP {
		return serverPort
	}
	return serverPort - bulkPort + 80
}

func report(rows []result) {
	var direct, directCPU float64
	for _, r := range rows {
		if r.mode == "direct" {
			direct, directCPU = r.mbps(), r.cpuPerGB()
		}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "mode\tMB/s\tof direct\tCPU s/GB\tof direct per CPU\tRR p50\tRR p99\tCRR p50\tCRR p99\t")
	for _, r := range rows {
		share, cpuShare := "-", "-"
		if direct > 0 {
			share = fmt.Sprintf("%.0f%%", 100*r.mbps()/direct)
		}
		if directCPU > 0 && r.cpuPerGB() > 0 {
			cpuShare = fmt.Sprintf("%.0f%%", 100*directCPU/r.cpuPerGB())
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%.2f\t%s\t%v\t%v\t%v\t%v\t\n", r.mode, r.mbps(), share, r.cpuPerGB(), cpuShare, r.rr[0], r.rr[1], r.crr[0], r.crr[1])
	}
	tw.Flush()
}
