package iptables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/svcplane/svcplane/internal/proxy"
)

// ruleTables are the tables Rules prints and Cleanup clears.
var ruleTables = []string{"filter", "nat", "mangle"}

// Rules is iptables-save of the filter, nat and mangle tables.
func (b *Backend) Rules(ctx context.Context) (string, error) {
	var sb strings.Builder
	for _, t := range ruleTables {
		out, err := b.run(ctx, b.tools.save, []string{"-t", t}, nil)
		if err != nil {
			return "", fmt.Errorf("iptables-save -t %s: %w", t, err)
		}
		sb.Write(out)
	}
	return sb.String(), nil
}

// Cleanup removes every KUBE-* chain (kube-proxy's, the canaries, older
// KUBE-XLB-* ones) and every jump to them from other chains, in both the
// legacy and the nft backend, with one restore per backend.
func (b *Backend) Cleanup(ctx context.Context) error {
	var errs []error
	for _, backend := range []string{BackendLegacy, BackendNFT} {
		t := toolsFor(b.cfg.Family, backend)
		if !works(ctx, b.ex, t) {
			continue
		}
		if err := cleanupBackend(ctx, b.ex, t); err != nil {
			errs = append(errs, fmt.Errorf("iptables %s %s cleanup: %w", b.cfg.Family, backend, err))
		}
	}
	b.needFull = true
	b.written = map[proxy.ServicePortName][]string{}
	return errors.Join(errs...)
}

// cleanupBackend deletes the KUBE-* chains of one backend.
func cleanupBackend(ctx context.Context, ex Exec, t tools) error {
	return removeChains(ctx, ex, t, func(string) bool { return true })
}

// removeChains deletes the KUBE-* chains that match picks, and the jumps
// to them from every chain that stays, with one restore.
func removeChains(ctx context.Context, ex Exec, t tools, picks func(chain string) bool) error {
	var in bytes.Buffer
	for _, table := range ruleTables {
		out, err := ex.Run(ctx, t.save, []string{"-t", table}, nil)
		if err != nil {
			continue // the table is not there
		}
		cleanupTable(&in, table, out, picks)
	}
	if in.Len() == 0 {
		return nil
	}
	_, err := ex.Run(ctx, t.restore, []string{"-w", "5", "--noflush"}, in.Bytes())
	return err
}

// cleanupTable writes the restore lines that remove one table's KUBE-*
// chains that match picks: flush them, delete the jumps to them from the
// other chains, delete them.
func cleanupTable(w *bytes.Buffer, table string, save []byte, picks func(string) bool) {
	gone := func(c string) bool { return strings.HasPrefix(c, "KUBE-") && picks(c) }
	var chains, dels []string
	for _, l := range strings.Split(string(save), "\n") {
		switch {
		case strings.HasPrefix(l, ":KUBE-"):
			if c := strings.Fields(l[1:])[0]; gone(c) {
				chains = append(chains, c)
			}
		case strings.HasPrefix(l, "-A ") && !gone(strings.Fields(l)[1]) && gone(jumpTarget(l)):
			dels = append(dels, "-D "+l[3:])
		}
	}
	if len(chains) == 0 && len(dels) == 0 {
		return
	}
	fmt.Fprintf(w, "*%s\n", table)
	for _, c := range chains {
		fmt.Fprintf(w, ":%s - [0:0]\n", c)
	}
	for _, d := range dels {
		fmt.Fprintln(w, d)
	}
	for _, c := range chains {
		fmt.Fprintf(w, "-X %s\n", c)
	}
	w.WriteString("COMMIT\n")
}

// jumpTarget is the chain a rule jumps or goes to, or "".
func jumpTarget(rule string) string {
	for _, flag := range []string{" -j ", " -g "} {
		if _, after, ok := strings.Cut(rule, flag); ok {
			if f := strings.Fields(after); len(f) > 0 {
				return f[0]
			}
		}
	}
	return ""
}

// Handover leaves the node to the IPVS mode, which has rewritten the
// chains both modes write (KUBE-SERVICES, KUBE-POSTROUTING,
// KUBE-MARK-MASQ, KUBE-FORWARD, KUBE-PROXY-FIREWALL): it removes what only
// this mode uses, the per-Service chains, KUBE-NODEPORTS,
// KUBE-EXTERNAL-SERVICES and the canary, with the jumps to them. For the
// iptables mode itself it leaves everything; for any other mode it is
// Cleanup.
func (b *Backend) Handover(ctx context.Context, next proxy.Mode) error {
	switch next {
	case proxy.ModeIPTables:
		return nil
	case proxy.ModeIPVS:
	default:
		return b.Cleanup(ctx)
	}
	b.needFull = true
	b.written = map[proxy.ServicePortName][]string{}
	return removeChains(ctx, b.ex, b.tools, iptablesOnly)
}

// iptablesOnly says a chain is the iptables mode's alone.
func iptablesOnly(chain string) bool {
	switch chain {
	case chainNodePorts, chainExternalServices, chainCanary:
		return true
	}
	for _, p := range []string{prefixSVC, prefixSVL, prefixEXT, prefixFW, prefixSEP, prefixXLB} {
		if strings.HasPrefix(chain, p) {
			return true
		}
	}
	return false
}

func jumpsToKube(rule string) bool {
	return strings.Contains(rule, " -j KUBE-") || strings.Contains(rule, " -g KUBE-")
}
