package main

import (
	"fmt"
	"io"
	"slices"
)

// printPeers writes the peer table: each mode and size, svcplane's proxy
// and kube-proxy, one row each.
func (b *bench) printPeers(w io.Writer, ms []mode) {
	if len(b.peerResults) == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Beside upstream kube-proxy: both as programs in a node namespace against one svcplane API server, N Services x %d endpoints (+ the `kubernetes` Service)\n\n", perService)
	fmt.Fprintln(w, "| mode | Services | proxy | first sync (CPU of the process and its tools until then) | start to first sync done | partial sync after one endpoint change, median of the sync; of write to synced | RSS after the partials (peak) | first packet p50 / p99 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	names := b.peerNames()
	for _, m := range ms {
		for _, n := range b.cfg.sizes {
			for _, name := range names {
				r := b.peerResults[fmt.Sprintf("%s|%s|%d", name, m.name, n)]
				if r == nil {
					continue
				}
				fmt.Fprintf(w, "| %s | %s | %s | %s |\n", m.name, thousands(n), name, r.cells())
			}
		}
	}
}

// peerNames are the peers in the order they ran.
func (b *bench) peerNames() []string {
	var names []string
	for k := range b.peerResults {
		var name string
		for i := range k {
			if k[i] == '|' {
				name = k[:i]
				break
			}
		}
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	// svcplane's first.
	slices.SortFunc(names, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "svcplane proxy":
			return -1
		case b == "svcplane proxy":
			return 1
		case a < b:
			return -1
		}
		return 1
	})
	return names
}

// cells are the row's cells after the proxy's name.
func (r *peerResult) cells() string {
	if !r.full.ok() {
		return r.full.String() + " | | | | "
	}
	partial := r.partialOut.String()
	if r.partialOut.ok() && len(r.partial) > 0 {
		partial = fmt.Sprintf("%s; %s", human(median(r.partial)), human(median(r.programmed)))
	}
	mem := "unknown"
	if r.rss >= 0 {
		mem = fmt.Sprintf("%s (%s)", size(int(r.rss)), size(int(r.peak)))
	}
	pk := ""
	switch {
	case !r.packetsOut.done:
	case !r.packetsOut.ok():
		pk = r.packetsOut.String()
	case len(r.packets.lat) == 0:
		pk = fmt.Sprintf("all %d failed", r.packets.failed)
	default:
		pk = human(percentile(r.packets.lat, 50)) + " / " + human(percentile(r.packets.lat, 99))
		if r.packets.failed > 0 {
			pk += fmt.Sprintf(" (%d failed)", r.packets.failed)
		}
	}
	return fmt.Sprintf("%s | %s | %s | %s | %s", r.full.withCPU(), human(r.ready), partial, mem, pk)
}
