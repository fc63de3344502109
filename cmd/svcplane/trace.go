package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

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
	dir := fs.String("data-dir", "/var/lib/svcplane", "data directory of the cluster (its admin.kubeconfig is used)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig (default: $KUBECONFIG, else admin.kubeconfig in --data-dir)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.From == "" || cfg.To == "" {
		return fmt.Errorf("usage: svcplane trace --from pod/<name> --to <service>|<ip>:<port> [--port P] [--proto udp] [-n namespace]")
	}
	if *proto != "" {
		cfg.Protocol = corev1.Protocol(strings.ToUpper(*proto))
	}
	path := *kubeconfig
	if path == "" {
		path = os.Getenv("KUBECONFIG")
	}
	if path == "" {
		path = filepath.Join(*dir, "admin.kubeconfig")
	}
	rc, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	cfg.Client, cfg.Out = client, os.Stdout
	return app.RunTrace(ctx, cfg)
}
