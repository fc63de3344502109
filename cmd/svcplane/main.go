// Command svcplane runs Kubernetes Service networking on Linux: an API
// server over etcd, controllers, a node agent, a proxy and cluster DNS.
// Each subcommand parses its flags into a Config and calls its Run.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/svcplane/svcplane/internal/agent/images"
)

// command is one subcommand: its name, a line of help, and its run func.
type command struct {
	name  string
	short string
	run   func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"up", "run svcplane for one node: etcd, API server and the rest", runUp},
		{"apiserver", "run the API server", runAPIServer},
		{"controllers", "run the controllers against an API server", runControllers},
		{"agent", "run the node agent against an API server", runAgent},
		{"proxy", "run the node proxy (kube-proxy's flags); proxy rules prints its rules", runProxy},
		{"dns", "run the cluster DNS server against an API server", runDNS},
		{"down", "remove a sandbox's namespaces, processes and agent state", runDown},
		{"token", "token create [--ttl]: a bootstrap token and the join command for a new node", runToken},
		{"trace", "trace --from pod/<name> --to <svc>|<ip>:<port>: the way a new connection takes through the node's kernel rules", runTrace},
		{"ui", "the live view: a page on 127.0.0.1 drawing each Service, its slices, pods and every node's rules for it", runUI},
		{"join", "join <server> --token T --discovery-token-ca-cert-hash sha256:...: make this machine a node of a cluster", runJoin},
		{"kubeconfig", "print the path of the admin kubeconfig", runKubeconfig},
		{"images", "import, list and remove the node's images (docker save or OCI archives)", runImages},
		{"version", "print the version", runVersion},
		{"image", "internal: run a built-in image", runImage},
		{"internal-init", "internal: first process of a container", runInternalInit},
		{"internal-container", "internal: set up a container and execute its process", runInternalContainer},
	}
}

func main() {
	// Busybox images link some applets to this binary (see images.Applet).
	if applet, ok := images.Applet(filepath.Base(os.Args[0])); ok {
		os.Exit(applet(os.Args[1:]))
	}
	// The kube-proxy and coredns images link their programs to it.
	switch filepath.Base(os.Args[0]) {
	case "kube-proxy":
		os.Args = append([]string{os.Args[0], "proxy"}, os.Args[1:]...)
	case "coredns":
		os.Args = append([]string{os.Args[0], "dns"}, os.Args[1:]...)
	}
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	for _, c := range commands() {
		if c.name == os.Args[1] {
			if err := c.run(ctx, os.Args[2:]); err != nil {
				fmt.Fprintf(os.Stderr, "svcplane %s: %v\n", c.name, err)
				os.Exit(1)
			}
			return
		}
	}
	usage()
	os.Exit(2)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: svcplane <command> [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-12s %s\n", c.name, c.short)
	}
}

func newLogger(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return newLoggerLevel(l)
}

func newLoggerLevel(l slog.Level) *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
