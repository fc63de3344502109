package main

import (
	"context"

	"github.com/svcplane/svcplane/internal/dnsserver"
)

// runDNS runs the cluster DNS server against an API server.
func runDNS(ctx context.Context, args []string) error {
	return dnsserver.Main(ctx, "dns", args)
}
