// Command svcplane-dns is the cluster DNS server alone: `svcplane dns`
// with its flags, in a binary that links only the DNS server and
// client-go. It starts faster and keeps a fraction of svcplane's memory
// (most of a process's resident size is its binary's mapped pages), which
// is what a DNS replica on every node wants.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/svcplane/svcplane/internal/dnsserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := dnsserver.Main(ctx, "svcplane-dns", os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "svcplane-dns:", err)
		os.Exit(1)
	}
}
