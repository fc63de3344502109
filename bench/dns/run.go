package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

type config struct {
	svcplane, coredns, self string // binaries
	svcplaneDNS             string // the DNS-only binary; "" runs `svcplane dns`
	services, endpoints     int    // Services, endpoints per Service
	queries                 int    // lines per query file
	duration                time.Duration
	perf                    dnsperfArgs
	latencyRate             int
	latencyDuration         time.Duration
	latencyRounds           int
}

func runMain(ctx context.Context, args []string) error {
	var cfg config
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&cfg.svcplane, "svcplane", "", "svcplane binary")
	fs.StringVar(&cfg.svcplaneDNS, "svcplane-dns", "", "svcplane-dns binary (default: svcplane dns)")
	fs.StringVar(&cfg.coredns, "coredns", "/var/cache/svcplane/coredns/coredns", "CoreDNS binary")
	fs.IntVar(&cfg.services, "services", 1000, "Services (one in ten headless)")
	fs.IntVar(&cfg.endpoints, "endpoints", 10, "ready endpoints per Service")
	fs.IntVar(&cfg.queries, "queries", 10000, "lines per query file")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "each dnsperf run")
	fs.IntVar(&cfg.perf.clients, "clients", 10, "dnsperf -c")
	fs.IntVar(&cfg.perf.outstanding, "outstanding", 100, "dnsperf -q")
	fs.IntVar(&cfg.latencyRate, "latency-rate", 10000, "queries per second of the latency measurement")
	fs.DurationVar(&cfg.latencyDuration, "latency-duration", 10*time.Second, "length of one latency measurement")
	fs.IntVar(&cfg.latencyRounds, "latency-rounds", 3, "latency measurements per server, taking turns; the median is reported")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.svcplane == "" {
		return fmt.Errorf("-svcplane is required (bench/dns/run.sh builds it)")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cfg.self = self
	return run(ctx, cfg)
}

// files are the query files of a run.
type files struct{ mix, clusterA string }

func run(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "svcplane-bench-dns")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ps := &procs{dir: dir}
	defer ps.stopAll()
	qf, err := writeQueryFiles(dir, cfg)
	if err != nil {
		return err
	}
	targets, setup, err := startAll(ctx, ps, cfg, dir)
	if err != nil {
		return err
	}
	msgs, err := readQueries(qf.mix)
	if err != nil {
		return err
	}
	setup.agree = compareAnswers(targets[0], targets[1], msgs, 1000)
	results, err := measureAll(ctx, cfg, targets, qf)
	if err != nil {
		return err
	}
	printReport(os.Stdout, cfg, setup, results)
	return nil
}

func writeQueryFiles(dir string, cfg config) (files, error) {
	f := files{mix: filepath.Join(dir, "mix.txt"), clusterA: filepath.Join(dir, "cluster-a.txt")}
	if err := writeLines(f.mix, mixQueries(cfg.services, cfg.queries)); err != nil {
		return f, err
	}
	return f, writeLines(f.clusterA, clusterAQueries(cfg.services, cfg.queries))
}

// setupInfo is what the report says about the run besides the load.
type setupInfo struct {
	populate time.Duration
	ready    map[string]time.Duration // DNS server start to /ready
	memReady map[string]memory
	agree    agreement
}

// startAll starts the API server, fills it, then the upstream, svcplane
// dns, CoreDNS and the limit, and returns the three targets.
func startAll(ctx context.Context, ps *procs, cfg config, dir string) ([]target, setupInfo, error) {
	info := setupInfo{ready: map[string]time.Duration{}, memReady: map[string]memory{}}
	client, kc, err := startAPIServer(ctx, ps, cfg, dir)
	if err != nil {
		return nil, info, err
	}
	start := time.Now()
	if err := populate(ctx, client, cfg.services, cfg.endpoints); err != nil {
		return nil, info, err
	}
	info.populate = time.Since(start)
	progress("populated: %d Services, %d endpoints in %s", cfg.services, cfg.services*cfg.endpoints, info.populate.Round(time.Millisecond))
	up, err := startResponder(ctx, ps, cfg, "upstream", "upstream", "1")
	if err != nil {
		return nil, info, err
	}
	starts := []func() (target, error){
		func() (target, error) { return startSvcplaneDNS(ctx, ps, cfg, kc, up.addr) },
		func() (target, error) { return startCoreDNS(ctx, ps, cfg, dir, kc, up.addr) },
		func() (target, error) { return startResponder(ctx, ps, cfg, "limit: UDP responder", "limit", "0") },
	}
	var targets []target
	for _, f := range starts {
		t0 := time.Now()
		t, err := f()
		if err != nil {
			return nil, info, err
		}
		info.ready[t.name] = time.Since(t0)
		info.memReady[t.name], _ = readMemory(t.proc.cmd.Process.Pid)
		progress("%s ready on %s after %s", t.name, t.addr, info.ready[t.name].Round(time.Millisecond))
		targets = append(targets, t)
	}
	return targets, info, nil
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}
