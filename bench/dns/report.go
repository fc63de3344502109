package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// printReport writes the markdown tables of a run.
func printReport(w io.Writer, cfg config, s setupInfo, rs []result) {
	fmt.Fprintf(w, "## bench/dns, %s\n\n", time.Now().Format("2006-01-02 15:04"))
	fmt.Fprintf(w, "Machine: %s. %s Services (%s headless), %s endpoints.\n\n", machine(cfg),
		thousands(cfg.services), thousands(countHeadless(cfg.services)), thousands(cfg.services*cfg.endpoints))
	fmt.Fprintln(w, "| server | qps (mix) | qps (cluster A) | p50 | p99 | RSS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rs {
		l := r.latencySummary()
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.target.name, thousands(int(r.mix.qps)),
			thousands(int(r.clusterA.qps)), micros(l.p50), micros(l.p99), r.mem)
	}
	fmt.Fprintln(w)
	if len(rs) >= 2 {
		printGoal(w, rs[0], rs[1])
	}
	fmt.Fprintf(w, "Each server alone on core 0 (GOMAXPROCS=1), the load on core 1. qps: `dnsperf -c %d -q %d -l %s`, "+
		"after one warm-up pass. p50/p99: %s queries/s of the mix for %s from bench/dns's own open-loop generator "+
		"(dnsperf 2.10 has no latency histogram), from each query's write to its answer; the median of %d rounds, "+
		"the servers taking turns. RSS: VmRSS after the runs.\n\n",
		cfg.perf.clients, cfg.perf.outstanding, cfg.duration, thousands(cfg.latencyRate), cfg.latencyDuration, cfg.latencyRounds)
	printDetails(w, s, rs)
}

// printGoal compares a with b by issue 11's goal: at least twice the
// throughput, a lower p99, less memory.
func printGoal(w io.Writer, a, b result) {
	mix, clusterA := a.mix.qps/b.mix.qps, a.clusterA.qps/b.clusterA.qps
	p99 := float64(a.latencySummary().p99) / float64(b.latencySummary().p99)
	mem := float64(a.mem.rss) / float64(b.mem.rss)
	anon := float64(a.mem.anon) / float64(b.mem.anon)
	fmt.Fprintf(w, "%s against %s: throughput %.2f× (mix), %.2f× (cluster A); p99 %.2f×; RSS %.2f× (anonymous memory %.2f×).\n",
		a.target.name, b.target.name, mix, clusterA, p99, mem, anon)
	fmt.Fprintf(w, "Goal (≥ 2× throughput, lower p99, less memory): throughput %s, p99 %s, memory %s.\n\n",
		metIf(mix >= 2 && clusterA >= 2), metIf(p99 < 1), metIf(mem < 1))
}

func metIf(ok bool) string {
	if ok {
		return "met"
	}
	return "not met"
}

// printDetails writes the second table: every run's raw figures.
func printDetails(w io.Writer, s setupInfo, rs []result) {
	fmt.Fprintln(w, "| server | run | queries | lost | avg latency | server CPU | response codes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, r := range rs {
		for _, p := range []struct {
			run string
			r   perfResult
		}{{"mix", r.mix}, {"cluster A", r.clusterA}} {
			fmt.Fprintf(w, "| %s | dnsperf %s | %s | %d | %s | %.0f%% | %s |\n", r.target.name, p.run, thousands(p.r.sent), p.r.lost,
				micros(p.r.avgLatency), 100*p.r.serverCPU, p.r.rcodes)
		}
		l := r.latencySummary()
		fmt.Fprintf(w, "| %s | fixed rate, mix | %s | %d | | | max latency %s |\n", r.target.name, thousands(l.sent), l.lost, micros(l.max))
	}
	fmt.Fprintln(w)
	for _, r := range rs {
		n := r.target.name
		fmt.Fprintf(w, "- %s: /ready %s after start, RSS then %s; after the runs %s (anonymous %s, file %s), peak %s.\n", n,
			s.ready[n].Round(time.Millisecond), s.memReady[n], r.mem, mib(r.mem.anon), mib(r.mem.file), mib(r.mem.peak))
	}
	fmt.Fprintf(w, "- API server filled in %s.\n", s.populate.Round(time.Millisecond))
	if len(rs) >= 2 {
		fmt.Fprintf(w, "- Answers compared: %d of %d distinct mix queries answered alike by %s and %s (rcode, TC, answer records).\n",
			s.agree.same, s.agree.total, rs[0].target.name, rs[1].target.name)
	}
	for _, d := range s.agree.diffs {
		fmt.Fprintf(os.Stderr, "differs: %s\n", d)
	}
}

func countHeadless(n int) int {
	c := 0
	for i := range n {
		if headless(i) {
			c++
		}
	}
	return c
}

// machine is the line saying what the figures depend on.
func machine(cfg config) string {
	return fmt.Sprintf("%d cores (%s), kernel %s, %s, %s, %s", runtime.NumCPU(), cpuModel(),
		firstLine(os.ReadFile("/proc/sys/kernel/osrelease")), dnsperfVersion(),
		firstLine(exec.Command(cfg.coredns, "-version").Output()), runtime.Version())
}

var versionRE = regexp.MustCompile(`Version (\S+)`)

func dnsperfVersion() string {
	out, _ := exec.Command("dnsperf", "-h").CombinedOutput()
	if m := versionRE.FindSubmatch(out); m != nil {
		return "dnsperf " + string(m[1])
	}
	return "dnsperf (unknown version)"
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func firstLine(b []byte, err error) string {
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

func micros(d time.Duration) string {
	if d >= 10*time.Millisecond {
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

// thousands writes n with commas: 45,123.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
