package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables"
	"github.com/svcplane/svcplane/internal/proxy/ipvs"
	"github.com/svcplane/svcplane/internal/proxy/nftables"
	"github.com/svcplane/svcplane/internal/proxy/userspace"
)

// newBackend makes the backend of mode for one family: an explicit switch,
// one case per mode.
func newBackend(ctx context.Context, mode proxy.Mode, fam corev1.IPFamily, cfg ProxyConfig) (proxy.Backend, error) {
	switch mode {
	case proxy.ModeIPTables:
		b, err := iptables.New(ctx, iptables.Config{
			Family:              fam,
			IPTablesBackend:     cfg.IPTablesBackend,
			ConntrackTCPLiberal: cfg.KubeProxy != nil && cfg.KubeProxy.Conntrack.TCPBeLiberal,
			Logger:              cfg.Logger,
		})
		if err != nil {
			return nil, err
		}
		return b, nil
	case proxy.ModeNFTables:
		b, err := nftables.New(nftables.Config{Family: fam, Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		return b, nil
	case proxy.ModeIPVS:
		c := ipvs.Config{Family: fam, IPTablesBackend: cfg.IPTablesBackend, Logger: cfg.Logger}
		if kp := cfg.KubeProxy; kp != nil {
			c.Scheduler, c.StrictARP, c.ExcludeCIDRs = kp.IPVS.Scheduler, kp.IPVS.StrictARP, kp.IPVS.ExcludeCIDRs
			c.Timeouts = ipvs.Timeouts{TCP: kp.IPVS.TCPTimeout.Duration, TCPFin: kp.IPVS.TCPFinTimeout.Duration, UDP: kp.IPVS.UDPTimeout.Duration}
		}
		b, err := ipvs.New(ctx, c)
		if err != nil {
			return nil, err
		}
		return b, nil
	case proxy.ModeUserspace:
		sched := ""
		if cfg.KubeProxy != nil {
			sched = cfg.KubeProxy.IPVS.Scheduler
		}
		b, err := userspace.New(userspace.Config{Family: fam, Scheduler: sched, Logger: cfg.Logger})
		if err != nil {
			return nil, err
		}
		return b, nil
	default:
		return nil, fmt.Errorf("proxy mode %q: %w", mode, proxy.ErrUnavailable)
	}
}

// allModes are the modes whose rules `proxy rules` shows and --cleanup
// removes.
func allModes() []proxy.Mode {
	return []proxy.Mode{proxy.ModeIPTables, proxy.ModeNFTables, proxy.ModeIPVS, proxy.ModeUserspace}
}

// PrintProxyRules prints the rules every mode holds in this network
// namespace, in each mode's native view.
func PrintProxyRules(ctx context.Context, out io.Writer) error {
	found := false
	for _, mode := range allModes() {
		for _, fam := range []corev1.IPFamily{corev1.IPv4Protocol, corev1.IPv6Protocol} {
			b, err := newBackend(ctx, mode, fam, ProxyConfig{IPTablesBackend: "auto", Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				if mode == proxy.ModeIPVS && fam == corev1.IPv4Protocol && errors.Is(err, proxy.ErrUnavailable) {
					fmt.Fprintf(out, "# ipvs mode unavailable here (a proxy asked for it runs iptables mode): %v\n", err)
				}
				continue
			}
			text, err := b.Rules(ctx)
			if err != nil || !holdsProxyRules(mode, text) {
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

// holdsProxyRules tells whether a backend's Rules text holds a proxy's
// rules: iptables-save prints the built-in chains of every table it was
// asked for, also after another mode's proxy removed every KUBE-* chain.
func holdsProxyRules(mode proxy.Mode, text string) bool {
	if mode == proxy.ModeIPTables {
		return strings.Contains(text, ":KUBE-")
	}
	return strings.TrimSpace(text) != ""
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

// describeBackend logs what a backend chose, where it chose something.
func describeBackend(b proxy.Backend, fam corev1.IPFamily, log *slog.Logger) {
	if ipt, ok := b.(*iptables.Backend); ok {
		c := ipt.Choice()
		log.Info("iptables backend", "family", fam, "backend", c.Backend, "reason", c.Reason)
	}
}

// routeLocalnet is the sysctl that lets NodePorts answer on 127.0.0.1.
const routeLocalnet = "/proc/sys/net/ipv4/conf/all/route_localnet"

// enableLocalhostNodePorts sets route_localnet, as kube-proxy does when
// its iptables mode serves NodePorts on localhost; the backend writes the
// KUBE-FIREWALL rule that drops martian packets to 127.0.0.0/8
// (CVE-2020-8558) with it.
func enableLocalhostNodePorts(log *slog.Logger) error {
	cur, err := os.ReadFile(routeLocalnet)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(cur)) == "1" {
		return nil
	}
	if err := os.WriteFile(routeLocalnet, []byte("1"), 0o644); err != nil {
		return fmt.Errorf("set %s: %w", routeLocalnet, err)
	}
	log.Info("set net.ipv4.conf.all.route_localnet=1 for localhost NodePorts")
	return nil
}
