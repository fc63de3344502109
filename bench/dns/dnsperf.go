package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// perfResult is what one dnsperf run reported.
type perfResult struct {
	sent, lost int
	qps        float64
	avgLatency time.Duration
	rcodes     string  // e.g. "NOERROR 800 (80.00%), NXDOMAIN 200 (20.00%)"
	serverCPU  float64 // the server's CPU time over the run's wall time
}

var perfFields = map[string]*regexp.Regexp{
	"sent":    regexp.MustCompile(`Queries sent:\s+(\d+)`),
	"lost":    regexp.MustCompile(`Queries lost:\s+(\d+)`),
	"qps":     regexp.MustCompile(`Queries per second:\s+([\d.]+)`),
	"latency": regexp.MustCompile(`Average Latency \(s\):\s+([\d.]+)`),
	"rcodes":  regexp.MustCompile(`Response codes:\s+(.*)`),
}

// dnsperfArgs are the load options shared by every run.
type dnsperfArgs struct {
	clients, outstanding int
}

// perfRun runs dnsperf against t and measures t's CPU use meanwhile.
func perfRun(ctx context.Context, t target, file string, d time.Duration, a dnsperfArgs) (perfResult, error) {
	pid := t.proc.cmd.Process.Pid
	before, err := cpuTime(pid)
	if err != nil {
		return perfResult{}, err
	}
	start := time.Now()
	r, err := runDNSPerf(ctx, t.addr, file, d, a)
	if err != nil {
		return r, err
	}
	after, err := cpuTime(pid)
	r.serverCPU = float64(after-before) / float64(time.Since(start))
	return r, err
}

// cpuTime is the user and system time a process has used, from
// /proc/PID/stat (in clock ticks of 10 ms).
func cpuTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	f := strings.Fields(rest) // from field 3, state
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too short", pid)
	}
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// runDNSPerf runs dnsperf on core 1 against addr with the query file for
// d (or once through the file when d is 0) and parses its summary.
func runDNSPerf(ctx context.Context, addr, file string, d time.Duration, a dnsperfArgs) (perfResult, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host != loopback {
		return perfResult{}, fmt.Errorf("dnsperf target %q: want %s:PORT", addr, loopback)
	}
	args := []string{"-c", "1", "dnsperf", "-s", host, "-p", port, "-d", file,
		"-c", strconv.Itoa(a.clients), "-q", strconv.Itoa(a.outstanding)}
	if d > 0 {
		args = append(args, "-l", strconv.FormatFloat(d.Seconds(), 'f', -1, 64))
	} else {
		args = append(args, "-n", "1")
	}
	out, err := orphanless(exec.CommandContext(ctx, "taskset", args...)).CombinedOutput()
	if err != nil {
		return perfResult{}, fmt.Errorf("dnsperf: %w\n%s", err, out)
	}
	return parseDNSPerf(string(out))
}

func parseDNSPerf(out string) (perfResult, error) {
	v := map[string]string{}
	for k, re := range perfFields {
		m := re.FindStringSubmatch(out)
		if m == nil {
			return perfResult{}, fmt.Errorf("dnsperf output without %s:\n%s", k, out)
		}
		v[k] = strings.TrimSpace(m[1])
	}
	var r perfResult
	r.sent, _ = strconv.Atoi(v["sent"])
	r.lost, _ = strconv.Atoi(v["lost"])
	r.qps, _ = strconv.ParseFloat(v["qps"], 64)
	sec, _ := strconv.ParseFloat(v["latency"], 64)
	r.avgLatency = time.Duration(sec * float64(time.Second))
	r.rcodes = v["rcodes"]
	return r, nil
}
