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
	var in bytes.Buffer
	for _, table := range ruleTables {
		out, err := ex.Run(ctx, t.save, []string{"-t", table}, nil)
		if err != nil {
			continue // the table is not there
		}
		cleanupTable(&in, table, out)
	}
	if in.Len() == 0 {
		return nil
	}
	_, err := ex.Run(ctx, t.restore, []string{"-w", "5", "--noflush"}, in.Bytes())
	return err
}

// cleanupTable writes the restore lines that empty one table of KUBE-*
// chains: flush them, delete the jumps to them from other chains, delete
// them.
func cleanupTable(w *bytes.Buffer, table string, save []byte) {
	var chains, dels []string
	for _, l := range strings.Split(string(save), "\n") {
		switch {
		case strings.HasPrefix(l, ":KUBE-"):
			chains = append(chains, strings.Fields(l[1:])[0])
		case strings.HasPrefix(l, "-A ") && !strings.HasPrefix(l, "-A KUBE-") && jumpsToKube(l):
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

func jumpsToKube(rule string) bool {
	return strings.Contains(rule, " -j KUBE-") || strings.Contains(rule, " -g KUBE-")
}
