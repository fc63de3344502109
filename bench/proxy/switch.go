package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/userspace"
)

// A live mode switch, as the proxy does it when the kube-proxy ConfigMap
// changes (internal/app/proxy_switch.go): the new mode programs every
// Service while the old mode's rules still serve, then the old mode's are
// removed (handed over, for modes that share rule names). The table times
// both steps for every ordered pair of the chosen modes.

// userspaceMode is the userspace backend, for the switch table only (it
// has no rules text to apply bare).
func userspaceMode() mode {
	return mode{
		name: "userspace",
		flag: "userspace",
		start: func(_ context.Context, _ *namespaces, name string) (*instance, error) {
			in := inNetns(name)
			var b *userspace.Backend
			err := in(func() error {
				var err error
				b, err = userspace.New(userspace.Config{Logger: benchutil.Quiet()})
				return err
			})
			return &instance{Backend: b, in: in}, err
		},
	}
}

// switchModes are the modes -switch-modes names.
func switchModes(names []string) ([]mode, error) {
	all := append(modes(), userspaceMode())
	var out []mode
	for _, n := range names {
		i := slices.IndexFunc(all, func(m mode) bool { return m.flag == n })
		if i < 0 {
			return nil, fmt.Errorf("-switch-modes: unknown mode %q", n)
		}
		out = append(out, all[i])
	}
	return out, nil
}

type switchRow struct {
	from, to      string
	program, drop outcome
}

// switches times a switch between every ordered pair of ms at n Services.
func (b *bench) switches(ctx context.Context, ms []mode, n int) ([]switchRow, error) {
	st := proxy.Build(newCluster(n).input())
	var rows []switchRow
	for _, from := range ms {
		for _, to := range ms {
			if from.flag == to.flag {
				continue
			}
			r, err := b.switchOnce(ctx, from, to, st)
			if err != nil {
				return rows, err
			}
			fmt.Fprintf(os.Stderr, "%s switch %s -> %s: program %s, remove %s\n", time.Now().Format("15:04:05"), from.name, to.name, r.program, r.drop)
			rows = append(rows, r)
		}
	}
	return rows, nil
}

func (b *bench) switchOnce(ctx context.Context, from, to mode, st *proxy.State) (switchRow, error) {
	r := switchRow{from: from.name, to: to.name}
	nd, err := b.ns.newNode(ctx)
	if err != nil {
		return r, err
	}
	defer nd.close(b.ns)
	old, err := from.start(ctx, b.ns, nd.name)
	if err != nil {
		return r, fmt.Errorf("%s: %w", from.name, err)
	}
	if err := old.sync(ctx, st); err != nil {
		return r, fmt.Errorf("%s: %w", from.name, err)
	}
	next, err := to.start(ctx, b.ns, nd.name)
	if err != nil {
		return r, fmt.Errorf("%s: %w", to.name, err)
	}
	defer next.in(func() error { return next.Cleanup(ctx) })
	r.program = b.timed(ctx, func(ctx context.Context) error { return next.sync(ctx, st) })
	r.drop = b.timed(ctx, func(ctx context.Context) error {
		return old.in(func() error {
			if h, ok := old.Backend.(proxy.Handover); ok && proxy.SharesRules(old.Mode(), next.Mode()) {
				return h.Handover(ctx, next.Mode())
			}
			return old.Cleanup(ctx)
		})
	})
	return r, nil
}

func printSwitches(w io.Writer, rows []switchRow, n int) {
	fmt.Fprintf(w, "\n### Live mode switch at %s Services x 10 endpoints\n\n", thousands(n))
	fmt.Fprintln(w, "| from | to | new mode programs every Service | old mode's rules removed | switch |")
	fmt.Fprintln(w, "|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", r.from, r.to, r.program, r.drop, (outcome{d: r.program.d + r.drop.d, done: true, err: firstErr(r.program.err, r.drop.err)}))
	}
	fmt.Fprintln(w, "\nThe switch the ConfigMap triggers adds the new generation's informer start (a list of Services and EndpointSlices) to the first column.")
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func parseList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
