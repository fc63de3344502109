package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
)

// metricsAddr is where both proxies serve their metrics, on the node
// namespace's loopback.
const metricsAddr = "127.0.0.1:10249"

// proxyProc is a proxy program running in a node namespace.
type proxyProc struct {
	cmd     *exec.Cmd
	log     *os.File
	started time.Time
	scrape  *http.Client
	done    chan struct{} // closed when the process has ended
	waitErr error
}

// startProxy runs bin with args in the node namespace ns, its output in
// logPath. env is added to the bench's environment.
func startProxy(ns, bin, logPath string, args, env []string) (*proxyProc, error) {
	log, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, bin}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	p := &proxyProc{cmd: cmd, log: log, scrape: nsHTTPClient(ns), done: make(chan struct{})}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	return p, nil
}

// stop ends the process (SIGTERM, then SIGKILL after 5 s).
func (p *proxyProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	p.log.Close()
}

// exited returns an error saying how the process ended, with its log's
// last lines, once it has; nil while it runs.
func (p *proxyProc) exited() error {
	select {
	case <-p.done:
		return fmt.Errorf("exited (%v): %s", p.waitErr, p.logTail(5))
	default:
		return nil
	}
}

func (p *proxyProc) logTail(n int) string {
	b, _ := os.ReadFile(p.log.Name())
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// syncCounters are the totals of kube-proxy's sync metric, which both
// proxies serve: kubeproxy_sync_proxy_rules_duration_seconds.
type syncCounters struct {
	count int
	sum   float64
}

// counters scrapes the sync totals (summed over label sets, such as
// ip_family).
func (p *proxyProc) counters(ctx context.Context) (syncCounters, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+metricsAddr+"/metrics", nil)
	if err != nil {
		return syncCounters{}, err
	}
	resp, err := p.scrape.Do(req)
	if err != nil {
		return syncCounters{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return syncCounters{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseSyncCounters(resp.Body)
}

func parseSyncCounters(r io.Reader) (syncCounters, error) {
	const name = "kubeproxy_sync_proxy_rules_duration_seconds"
	var c syncCounters
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		metric, value, ok := cutMetric(line)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			continue
		}
		switch metric {
		case name + "_count":
			c.count += int(v)
		case name + "_sum":
			c.sum += v
		}
	}
	return c, sc.Err()
}

// cutMetric splits a sample line "name{labels} value" into the name
// and the value.
func cutMetric(line string) (string, string, bool) {
	if line == "" || line[0] == '#' {
		return "", "", false
	}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return "", "", false
	}
	metric := line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		j := strings.LastIndexByte(rest, '}')
		if j < 0 {
			return "", "", false
		}
		rest = rest[j+1:]
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return "", "", false
	}
	return metric, fields[0], true
}

// memory is the process's resident set now and at its peak (VmRSS and
// VmHWM of /proc/PID/status), in bytes.
func (p *proxyProc) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "status"))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		var kb int64
		if _, err := fmt.Sscanf(line, "VmRSS: %d kB", &kb); err == nil {
			rss = kb << 10
		}
		if _, err := fmt.Sscanf(line, "VmHWM: %d kB", &kb); err == nil {
			peak = kb << 10
		}
	}
	return rss, peak, nil
}

// cpu is the CPU time (user and system) the process used, with that of
// the children it waited for (iptables-restore, nft).
func (p *proxyProc) cpu() time.Duration {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.cmd.Process.Pid), "stat"))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	// utime, stime, cutime, cstime are fields 14-17 of stat: 12-15 here.
	if len(f) < 16 {
		return 0
	}
	var ticks int64
	for _, s := range f[11:15] {
		v, _ := strconv.ParseInt(s, 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// nsHTTPClient is an HTTP client whose connections are made inside the
// network namespace ns.
func nsHTTPClient(ns string) *http.Client {
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := netns.Do(nsPath(ns), func() error {
			var err error
			c, err = (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// forwardAPI listens on addr inside the namespace ns and forwards every
// connection to the same address on the host's loopback, where the API
// server listens: the proxy in ns reaches the API with the admin
// kubeconfig as it is. It stops when ctx ends.
func forwardAPI(ctx context.Context, ns, addr string) error {
	var ln net.Listener
	if err := netns.Do(nsPath(ns), func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		return fmt.Errorf("listen in %s: %w", ns, err)
	}
	go func() { <-ctx.Done(); ln.Close() }()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go pipe(ctx, in, addr)
		}
	}()
	return nil
}

func pipe(ctx context.Context, in net.Conn, addr string) {
	defer in.Close()
	out, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return
	}
	defer out.Close()
	go func() { <-ctx.Done(); in.Close(); out.Close() }()
	done := make(chan struct{})
	go func() { io.Copy(out, in); out.(*net.TCPConn).CloseWrite(); close(done) }()
	io.Copy(in, out)
	in.(*net.TCPConn).CloseWrite()
	<-done
}
