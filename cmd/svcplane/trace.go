package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/app"
)

// runTrace is `svcplane trace --from pod/<name> --to <svc>|<ip>:<port>`.
func runTrace(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("trace", flag.ContinueOnError)
	var cfg app.TraceConfig
	fs.StringVar(&cfg.From, "from", "", "where the connection starts: pod/<name> or node/<name>")
	fs.StringVar(&cfg.To, "to", "", "where it goes: a Service (svc/<name> or <name>) or <ip>:<port>")
	fs.StringVar(&cfg.Namespace, "namespace", "default", "namespace of the pod and the Service")
	fs.StringVar(&cfg.Namespace, "n", "default", "shorthand for --namespace")
	fs.StringVar(&cfg.Port, "port", "", "the Service port, by number or name (default: its first)")
	proto := fs.String("proto", "", "tcp, udp or sctp (default: the Service port's, tcp for <ip>:<port>)")
	fs.StringVar(&cfg.NetnsDir, "netns-dir", "/run/netns", "where sandboxed nodes' network namespaces are mounted")
	cluster := addClusterFlags(fs, true)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.From == "" || cfg.To == "" {
		return fmt.Errorf("usage: svcplane trace --from pod/<name> --to <service>|<ip>:<port> [--port P] [--proto udp] [-n namespace]")
	}
	if *proto != "" {
		cfg.Protocol = corev1.Protocol(strings.ToUpper(*proto))
	}
	client, err := cluster.client()
	if err != nil {
		return err
	}
	cfg.Client, cfg.Out = client, os.Stdout
	return app.RunTrace(ctx, cfg)
}
