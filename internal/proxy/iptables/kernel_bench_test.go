package iptables

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/proxy"
)

// TestKernelScale measures a full sync of 10,000 Services x 10 endpoints
// into a throwaway namespace beside the bare restore of the same text.
// Set SVCPLANE_IPT_SCALE=1 to run it for legacy, =all for nft too (nft
// takes over ten minutes to restore that much here).
func TestKernelScale(t *testing.T) {
	if os.Getenv("SVCPLANE_IPT_SCALE") == "" {
		t.Skip("set SVCPLANE_IPT_SCALE=1")
	}
	for _, backend := range []string{BackendLegacy, BackendNFT} {
		t.Run(backend, func(t *testing.T) {
			if backend == BackendNFT && os.Getenv("SVCPLANE_IPT_SCALE") != "all" {
				t.Skip("set SVCPLANE_IPT_SCALE=all")
			}
			ex := testNetns(t)
			ctx := context.Background()
			b, err := New(ctx, Config{Exec: ex, IPTablesBackend: backend, Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				t.Skip(err)
			}
			st := bigState(10000, 10)
			start := time.Now()
			if err := b.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			full := time.Since(start)
			text := append([]byte(nil), b.LastRestore()...)
			start = time.Now()
			if _, err := ex.Run(ctx, b.tools.restore, []string{"-w", "5", "--noflush", "--counters"}, text); err != nil {
				t.Fatal(err)
			}
			bare := time.Since(start)
			st.Full = false
			st.Changed = map[proxy.ServicePortName]bool{st.Services[0].Name: true}
			start = time.Now()
			if err := b.Sync(ctx, st); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: full sync %v, bare restore of the same %d bytes %v, partial sync %v", backend, full, len(text), bare, time.Since(start))
		})
	}
}
