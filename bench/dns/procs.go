package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procs are the child processes of a run, stopped together by stopAll.
type procs struct {
	dir  string // where each child's output goes, NAME.log
	list []*proc
}

type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
}

// startSpec says how to run one child.
type startSpec struct {
	name       string
	core       string // taskset -c CORE
	gomaxprocs bool   // GOMAXPROCS=1
	bin        string
	args       []string
}

// start runs a child pinned to its core. The child is killed if this
// process dies (Pdeathsig) and stopped by stopAll.
func (p *procs) start(s startSpec) (*proc, error) {
	log, err := os.Create(filepath.Join(p.dir, s.name+".log"))
	if err != nil {
		return nil, err
	}
	defer log.Close()
	cmd := exec.Command("taskset", append([]string{"-c", s.core, s.bin}, s.args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Env = os.Environ()
	if s.gomaxprocs {
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	orphanless(cmd).SysProcAttr.Setpgid = true
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", s.name, err)
	}
	c := &proc{name: s.name, cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.done) }()
	p.list = append(p.list, c)
	return c, nil
}

// orphanless makes cmd's process die with this one, however this one
// ends.
func orphanless(cmd *exec.Cmd) *exec.Cmd {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// stopAll stops the children, last started first: SIGTERM, then SIGKILL
// after 5 s.
func (p *procs) stopAll() {
	for i := len(p.list) - 1; i >= 0; i-- {
		c := p.list[i]
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(5 * time.Second):
			_ = c.cmd.Process.Kill()
			<-c.done
		}
	}
	p.list = nil
}

// tail is the end of a child's output, for errors.
func (p *procs) tail(name string) string {
	b, _ := os.ReadFile(filepath.Join(p.dir, name+".log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// exited says whether the child has stopped.
func (c *proc) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// waitFor polls ok every 100 ms until it is true, c exits, or timeout.
func (p *procs) waitFor(ctx context.Context, c *proc, what string, timeout time.Duration, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for !ok() {
		if c.exited() {
			return fmt.Errorf("%s exited before %s:\n%s", c.name, what, p.tail(c.name))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no %s within %s:\n%s", c.name, what, timeout, p.tail(c.name))
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// httpOK says whether GET url answers 200.
func httpOK(url string) bool {
	resp, err := (&http.Client{Timeout: time.Second}).Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// freePort finds a port free on 127.0.0.1 for both TCP and UDP.
func freePort() (int, error) {
	for range 20 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		ln.Close()
		if err == nil {
			pc.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free for both TCP and UDP on 127.0.0.1")
}

// memory is a process's resident memory, in KiB: all of it, its
// anonymous part (heap, stacks) and its file part (the binary's pages),
// and its peak.
type memory struct{ rss, anon, file, peak int }

func readMemory(pid int) (memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	var m memory
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		switch f[0] {
		case "VmRSS:":
			m.rss, _ = strconv.Atoi(f[1])
		case "RssAnon:":
			m.anon, _ = strconv.Atoi(f[1])
		case "RssFile:":
			m.file, _ = strconv.Atoi(f[1])
		case "VmHWM:":
			m.peak, _ = strconv.Atoi(f[1])
		}
	}
	return m, nil
}

func (m memory) String() string { return mib(m.rss) }

func mib(kib int) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }
