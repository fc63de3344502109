// Command dns measures svcplane's cluster DNS server against CoreDNS 1.15
// (kubeadm's Corefile) and against a trivial UDP responder (the limit), on
// the same machine in one run, and prints a markdown table (issue 11).
//
// It starts svcplane's API server, fills it with Services and
// EndpointSlices through client-go, runs the three servers pinned to core 0
// (GOMAXPROCS=1), and drives each from core 1 with dnsperf (throughput) and
// with its own fixed-rate load generator (p50/p99: dnsperf 2.10 has no
// latency histogram). Everything listens on 127.0.0.1; names outside the
// cluster go to a responder of its own on 127.0.0.1, never to a real
// resolver. bench/dns/run.sh installs dnsperf and CoreDNS, builds, and runs
//
//	dns run -svcplane BIN -coredns BIN [-services 1000] [-endpoints 10] [-duration 20s]
//	        [-clients 10] [-outstanding 100] [-latency-rate 10000] [-latency-duration 10s] [-latency-rounds 3]
//
// The other subcommands are its child processes:
//
//	dns respond -listen 127.0.0.1:PORT   answers every query with one fixed A record
//	dns latency -server ADDR -queries FILE -rate N -duration D   prints p50/p99 as JSON
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, args := "run", os.Args[1:]
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "run":
		err = runMain(ctx, args)
	case "respond":
		err = respondMain(ctx, args)
	case "latency":
		err = latencyMain(ctx, args)
	default:
		err = fmt.Errorf("unknown subcommand %q: want run, respond or latency", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/dns:", err)
		stop()
		os.Exit(1)
	}
}
