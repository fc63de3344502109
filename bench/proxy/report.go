package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// print writes the five tables in markdown.
func (b *bench) print(w io.Writer, ms []mode) {
	b.printFull(w, ms)
	b.printPartial(w, ms)
	b.printProgramming(w, ms)
	b.printPackets(w, ms)
	b.printMemory(w, ms)
}

func (b *bench) printFull(w io.Writer, ms []mode) {
	fmt.Fprintf(w, "\n### Full sync, N Services x %d endpoints\n\n", perService)
	fmt.Fprintln(w, "| mode | Services | full sync (CPU: the bench and its tools) | bare apply of the same rules (the limit) | kube-proxy's layout, bare apply (the anchor) |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, m := range ms {
		for _, n := range b.cfg.sizes {
			r := b.result(m, n)
			bare := r.bare.withCPU() + " (" + r.bareNote + ")"
			if !r.full.ok() {
				bare = "not run: the backend's own apply of this text did not finish"
			}
			anchor := "= the bare apply: our rules are kube-proxy's, rule for rule"
			switch {
			case m.anchor == nil:
			case !r.anchor.done:
				anchor = "not run"
			default:
				anchor = r.anchor.String() + " (" + r.anchorNote + ")"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.name, thousands(n), r.full.withCPU(), bare, anchor)
		}
	}
}

func (b *bench) printPartial(w io.Writer, ms []mode) {
	n := b.cfg.largest()
	if b.cfg.partials == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Partial sync after one endpoint change, %s Services (median of %d)\n\n", thousands(n), b.cfg.partials)
	fmt.Fprintln(w, "| mode | partial sync | min – max | full sync, for comparison | NeedsFullSync, which the sync loop calls before a sync |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, m := range ms {
		r := b.result(m, n)
		switch {
		case !r.full.ok():
			fmt.Fprintf(w, "| %s | not measured: the full sync %s | | %s | |\n", m.name, r.full, r.full)
		case len(r.partial) < b.cfg.partials:
			fmt.Fprintf(w, "| %s | %s | | %s | %s |\n", m.name, r.partialOut, r.full, r.check)
		default:
			fmt.Fprintf(w, "| %s | %s | %s – %s | %s | %s |\n", m.name, human(median(r.partial)),
				human(slices.Min(r.partial)), human(slices.Max(r.partial)), r.full, r.check)
		}
	}
}

func (b *bench) printProgramming(w io.Writer, ms []mode) {
	n := b.cfg.largest()
	if b.cfg.changes == 0 {
		return
	}
	fmt.Fprintf(w, "\n### Network programming latency, %s Services: %d endpoint changes at %g/s through the sync loop (minSyncPeriod %v)\n\n",
		thousands(n), b.cfg.changes, b.cfg.rate, b.cfg.minSync)
	fmt.Fprintln(w, "| mode | p50 | p99 | max | syncs that carried changes: count, median time |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, m := range ms {
		r := b.result(m, n)
		switch {
		case !r.full.ok():
			fmt.Fprintf(w, "| %s | not measured: the full sync %s | | | |\n", m.name, r.full)
		case !r.progOut.ok():
			fmt.Fprintf(w, "| %s | %s | | | |\n", m.name, r.progOut)
		default:
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.name, human(percentile(r.prog.lat, 50)), human(percentile(r.prog.lat, 99)),
				human(percentile(r.prog.lat, 100)), r.prog.syncNote())
		}
	}
}

func (p programming) syncNote() string {
	note := fmt.Sprintf("%d, %s", len(p.syncs), human(median(p.syncs)))
	if p.full > 0 {
		note += fmt.Sprintf(" (%d full)", p.full)
	}
	if p.lost > 0 {
		note += fmt.Sprintf("; %d changes in failed syncs: %v", p.lost, p.err)
	}
	return note
}

func (b *bench) printPackets(w io.Writer, ms []mode) {
	sizes := b.cfg.runSizes()
	if b.cfg.connects == 0 {
		return
	}
	fmt.Fprintf(w, "\n### First-packet latency through a ClusterIP: connect() from the node, p50 / p99 of %s new connections\n\n", thousands(b.cfg.connects))
	head := "| mode |"
	for _, n := range sizes {
		head += " " + services(n) + " |"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, "|---|"+strings.Repeat("---|", len(sizes)))
	for _, m := range ms {
		line := "| " + m.name + " |"
		for _, n := range sizes {
			line += " " + b.packetCell(b.result(m, n)) + " |"
		}
		fmt.Fprintln(w, line)
	}
}

func (b *bench) packetCell(r *sizeResult) string {
	switch {
	case !r.full.ok():
		return "not measured: the full sync " + r.full.String()
	case !r.packetsOut.ok():
		return r.packetsOut.String()
	case len(r.packets.lat) == 0:
		return fmt.Sprintf("all %d failed", r.packets.failed)
	}
	s := human(percentile(r.packets.lat, 50)) + " / " + human(percentile(r.packets.lat, 99))
	if r.packets.failed > 0 {
		s += fmt.Sprintf(" (%d failed)", r.packets.failed)
	}
	return s
}

func (b *bench) printMemory(w io.Writer, ms []mode) {
	fmt.Fprintln(w, "\n### Proxy memory: Go heap after GC")
	fmt.Fprintln(w, "\n| mode | Services | service and endpoint maps + State | backend after a full sync | total |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, m := range ms {
		for _, n := range b.cfg.sizes {
			r := b.result(m, n)
			if !r.full.ok() {
				fmt.Fprintf(w, "| %s | %s | not measured: the full sync %s | | |\n", m.name, thousands(n), r.full)
				continue
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", m.name, thousands(n), size(int(r.stateBytes)), size(int(r.beBytes)),
				size(int(r.stateBytes+r.beBytes)))
		}
	}
}

func (o outcome) String() string {
	switch {
	case !o.done:
		return "not run"
	case o.limit > 0:
		return "did not finish in " + shortDuration(o.limit)
	case o.err != nil:
		return "failed: " + firstLines(o.err.Error(), 1)
	}
	return human(o.d)
}

// withCPU is the outcome with its CPU time: "811 ms (CPU 520 ms)".
func (o outcome) withCPU() string {
	if !o.ok() {
		return o.String()
	}
	return o.String() + " (CPU " + human(o.cpu) + ")"
}

// human prints a duration with three significant figures or so.
func human(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond))
	case d < 10*time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	}
	return fmt.Sprintf("%.1f s", d.Seconds())
}

// shortDuration prints 5m rather than 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func size(n int) string {
	switch {
	case n < 0:
		return "-" + size(-n)
	case n < 1<<10:
		return fmt.Sprintf("%d B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// percentile is the nearest-rank p-th percentile.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func median(ds []time.Duration) time.Duration { return percentile(ds, 50) }

func services(n int) string {
	if n == 1 {
		return "1 Service"
	}
	return thousands(n) + " Services"
}
