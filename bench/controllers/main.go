// Command controllers measures svcplane's Endpoints and EndpointSlice
// controllers against a real API server (embedded etcd) on this machine
// and prints a table: the API writes the controllers make when one pod
// behind a Service of many turns unready (the limit is one EndpointSlice
// write plus one Endpoints write) and how long they take to show it, and
// the time to converge many pods behind many Services. Pods are driven as
// kwok does: created on a Node, their status written directly.
//
//	go run ./bench/controllers [-pods 1000] [-services 1000] [-per-service 10] [-workers 5]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
)

type config struct {
	pods       int // behind the one Service of the first measure
	services   int
	perService int
	workers    int // per controller
	clients    int // concurrent writers creating objects
}

func main() {
	var cfg config
	flag.IntVar(&cfg.pods, "pods", 1000, "pods behind the Service in which one turns unready")
	flag.IntVar(&cfg.services, "services", 1000, "Services of the convergence measure")
	flag.IntVar(&cfg.perService, "per-service", 10, "pods per Service of the convergence measure")
	flag.IntVar(&cfg.workers, "workers", 5, "workers per controller")
	flag.IntVar(&cfg.clients, "clients", 32, "concurrent writers creating pods and Services")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run (API server included) here")
	flag.Parse()
	if *cpuProfile != "" {
		stop, err := benchutil.StartCPUProfile(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		defer stop()
	}
	if err := run(context.Background(), cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1) //nolint:gocritic // the profile is of no use after a failure
	}
}

func run(ctx context.Context, cfg config) error {
	b, err := startBench(ctx)
	if err != nil {
		return err
	}
	defer b.stop()
	if err := createNodes(ctx, b.client); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "measure\tvalue\tnote\n")
	if err := coldStart(ctx, tw, b, cfg); err != nil {
		return err
	}
	if err := oneUnready(ctx, tw, b, cfg); err != nil {
		return err
	}
	if err := converge(ctx, tw, b, cfg); err != nil {
		return err
	}
	return tw.Flush()
}

// oneUnready: a Service over cfg.pods ready pods; one turns unready.
func oneUnready(ctx context.Context, tw io.Writer, b *bench, cfg config) error {
	const ns, svc = "one", "big"
	obs, err := bigService(ctx, tw, b, cfg, ns, svc)
	if err != nil {
		return err
	}
	b.settle(2 * time.Second)
	b.writes.take()

	victim := cfg.pods / 2
	start := time.Now()
	if err := setReady(ctx, b.client, ns, podName(svc, victim), false); err != nil {
		return err
	}
	if err := waitUntil(ctx, time.Minute, time.Millisecond, func() bool { return obs.notReady(svc, podIP(victim)) }); err != nil {
		return err
	}
	seen := since(start)
	b.settle(2 * time.Second)
	writes := b.writes.take()
	fmt.Fprintf(tw, "one pod turning unready: API writes\t%d\tlimit 2 (1 EndpointSlice + 1 Endpoints); %s\n", sum(writes), describe(writes))
	fmt.Fprintf(tw, "one pod turning unready: shown in Endpoints and slice\t%v\tfrom the status write to both seen by a watcher\n", seen)
	return nil
}

// bigService creates Service svc over cfg.pods ready pods and waits until
// the controllers have listed them all.
func bigService(ctx context.Context, tw io.Writer, b *bench, cfg config, ns, svc string) (*observer, error) {
	if err := createNamespace(ctx, b.client, ns); err != nil {
		return nil, err
	}
	obs, err := observe(ctx, b.client, ns)
	if err != nil {
		return nil, err
	}
	if err := createService(ctx, b.client, ns, svc); err != nil {
		return nil, err
	}
	start := time.Now()
	if _, err := benchutil.Parallel(cfg.pods, cfg.clients, func(i int) error { return readyPod(ctx, b.client, ns, svc, i) }); err != nil {
		return nil, err
	}
	full := func() bool { // Endpoints stop at 1000 addresses, slices do not
		eps, slices := obs.counts()
		return eps[svc] == min(cfg.pods, 1000) && slices[svc] == cfg.pods
	}
	if err := waitUntil(ctx, 5*time.Minute, 10*time.Millisecond, full); err != nil {
		return nil, err
	}
	fmt.Fprintf(tw, "%d ready pods behind 1 Service: created and converged\t%v\tpods created by %d writers\n", cfg.pods, since(start), cfg.clients)
	return obs, nil
}

// coldStart: the Services and their ready pods exist before the
// controllers start; time until every Endpoints and slice is written.
func coldStart(ctx context.Context, tw io.Writer, b *bench, cfg config) error {
	const ns = "cold"
	if err := createNamespace(ctx, b.client, ns); err != nil {
		return err
	}
	if err := createServicesAndPods(ctx, b, cfg, ns); err != nil {
		return err
	}
	obs, err := observe(ctx, b.client, ns)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := b.startControllers(cfg.workers); err != nil {
		return err
	}
	if err := waitUntil(ctx, 10*time.Minute, 10*time.Millisecond, func() bool { return obs.complete(cfg.services, cfg.perService) }); err != nil {
		return err
	}
	took := since(start)
	b.settle(2 * time.Second)
	writes := b.writes.take()
	fmt.Fprintf(tw, "controllers started over %d ready pods behind %d Services: converged\t%v\tinformer sync included; %d writes: %s\n",
		cfg.services*cfg.perService, cfg.services, took, sum(writes), describe(writes))
	return nil
}

func createServicesAndPods(ctx context.Context, b *bench, cfg config, ns string) error {
	name := func(i int) string { return fmt.Sprintf("svc-%04d", i) }
	if _, err := benchutil.Parallel(cfg.services, cfg.clients, func(i int) error { return createService(ctx, b.client, ns, name(i)) }); err != nil {
		return err
	}
	return benchutil.ParallelErr(cfg.services*cfg.perService, cfg.clients, func(i int) error {
		return readyPod(ctx, b.client, ns, name(i%cfg.services), i)
	})
}

// converge: cfg.services Services with cfg.perService pods each, created
// and marked ready, until every Endpoints and slice lists them ready.
func converge(ctx context.Context, tw io.Writer, b *bench, cfg config) error {
	const ns = "many"
	if err := createNamespace(ctx, b.client, ns); err != nil {
		return err
	}
	obs, err := observe(ctx, b.client, ns)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := createServicesAndPods(ctx, b, cfg, ns); err != nil {
		return err
	}
	total := cfg.services * cfg.perService
	written := time.Now()
	if err := waitUntil(ctx, 10*time.Minute, 10*time.Millisecond, func() bool { return obs.complete(cfg.services, cfg.perService) }); err != nil {
		return err
	}
	done := time.Now()
	b.settle(2 * time.Second)
	writes := b.writes.take()
	fmt.Fprintf(tw, "%d pods behind %d Services: converged\t%v\tfrom the first create; all objects written after %v\n",
		total, cfg.services, done.Sub(start).Round(time.Millisecond), written.Sub(start).Round(time.Millisecond))
	fmt.Fprintf(tw, "  after the last pod status write\t%v\tuntil every Endpoints and slice shows its pods ready\n", done.Sub(written).Round(time.Millisecond))
	fmt.Fprintf(tw, "  controller API writes\t%d\t%s\n", sum(writes), describe(writes))
	return nil
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Millisecond) }

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func describe(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
