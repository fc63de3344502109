package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
)

// newBackend makes the backend of mode for one family: an explicit switch,
// one case per mode.
func newBackend(ctx context.Context, mode proxy.Mode, fam corev1.IPFamily, cfg ProxyConfig) (proxy.Backend, error) {
	switch mode {
	default:
		return nil, fmt.Errorf("proxy mode %q: %w", mode, proxy.ErrUnavailable)
	}
}

// allModes are the modes whose rules `proxy rules` shows and --cleanup
// removes.
func allModes() []proxy.Mode { return []proxy.Mode{proxy.ModeIPTables, proxy.ModeNFTables} }

// PrintProxyRules prints the rules every mode holds in this network
// namespace, in each mode's native view.
func PrintProxyRules(ctx context.Context, out io.Writer) error {
	found := false
	for _, mode := range allModes() {
		for _, fam := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
			b, err := newBackend(ctx, mode, fam, ProxyConfig{IPTablesBackend: "auto", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				continue
			}
			text, err := b.Rules(ctx)
			if err != nil || strings.TrimSpace(text) == "" {
				continue
			}
			found = true
			fmt.Fprintf(out, "# %s mode, %s\n%s\n", mode, fam, strings.TrimRight(text, "\n"))
		}
	}
	if !found {
		fmt.Fprintln(out, "# no proxy rules in this network namespace")
	}
	return nil
}

// CleanupProxy removes the rules of every mode and family (kube-proxy's
// --cleanup).
func CleanupProxy(ctx context.Context, cfg ProxyConfig) error {
	var errs []error
	for _, mode := range allModes() {
		for _, fam := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
			b, err := newBackend(ctx, mode, fam, cfg)
			if err != nil {
				continue
			}
			if err := b.Cleanup(ctx); err != nil {
				errs = append(errs, fmt.Errorf("cleanup %s %s: %w", mode, fam, err))
			}
		}
	}
	return errors.Join(errs...)
}
