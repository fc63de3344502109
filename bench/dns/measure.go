package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"time"
)

// result is one target's measurements.
type result struct {
	target        target
	mix, clusterA perfResult
	latency       []latencyResult // one per round
	mem           memory          // after the runs
}

// measureAll measures the throughput of each target in turn, then their
// latency in rounds, taking turns so that a passing disturbance of the
// machine does not fall on one server only, then their memory.
func measureAll(ctx context.Context, cfg config, targets []target, qf files) ([]result, error) {
	var rs []result
	for _, t := range targets {
		r, err := measureThroughput(ctx, cfg, t, qf)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		rs = append(rs, r)
	}
	for range cfg.latencyRounds {
		for i, t := range targets {
			l, err := runLatency(ctx, cfg, t.addr, qf.mix)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			progress("%s: latency at %d qps: %s", t.name, cfg.latencyRate, l)
			rs[i].latency = append(rs[i].latency, l)
		}
	}
	for i, t := range targets {
		var err error
		if rs[i].mem, err = readMemory(t.proc.cmd.Process.Pid); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// measureThroughput warms t up with one pass of the mix (the forwarded
// names reach the caches), then runs dnsperf with the mix and with
// cluster A queries.
func measureThroughput(ctx context.Context, cfg config, t target, qf files) (result, error) {
	r := result{target: t}
	if _, err := perfRun(ctx, t, qf.mix, 0, cfg.perf); err != nil {
		return r, err
	}
	var err error
	if r.mix, err = perfRun(ctx, t, qf.mix, cfg.duration, cfg.perf); err != nil {
		return r, err
	}
	progress("%s: mix %.0f qps (%d lost), server CPU %.2f", t.name, r.mix.qps, r.mix.lost, r.mix.serverCPU)
	if r.clusterA, err = perfRun(ctx, t, qf.clusterA, cfg.duration, cfg.perf); err != nil {
		return r, err
	}
	progress("%s: cluster A %.0f qps (%d lost), server CPU %.2f", t.name, r.clusterA.qps, r.clusterA.lost, r.clusterA.serverCPU)
	return r, nil
}

// runLatency runs the load generator on core 1.
func runLatency(ctx context.Context, cfg config, addr, file string) (latencyResult, error) {
	cmd := orphanless(exec.CommandContext(ctx, "taskset", "-c", "1", cfg.self, "latency", "-server", addr, "-queries", file,
		"-rate", strconv.Itoa(cfg.latencyRate), "-duration", cfg.latencyDuration.String()))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return latencyResult{}, fmt.Errorf("latency: %w", err)
	}
	var r latencyResult
	return r, json.Unmarshal(out, &r)
}

// latencySummary is the median p50 and p99 over the rounds, the largest
// latency seen, and the queries sent and lost in all.
type latencySummary struct {
	p50, p99, max time.Duration
	sent, lost    int
}

func (r result) latencySummary() latencySummary {
	var s latencySummary
	var p50s, p99s []time.Duration
	for _, l := range r.latency {
		p50s, p99s = append(p50s, l.P50), append(p99s, l.P99)
		s.max = max(s.max, l.Max)
		s.sent += l.Sent
		s.lost += l.Sent - l.Received
	}
	s.p50, s.p99 = median(p50s), median(p99s)
	return s
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}
