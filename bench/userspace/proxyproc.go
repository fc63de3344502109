package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/svcplane/svcplane/internal/proxy/userspace"
)

// proxyEnv marks the re-executed bench that runs the userspace proxy in
// a process of its own in the node namespace, as svcplane's proxy runs
// beside the pods: not in the process of the client and server, whose Go
// scheduler it would otherwise share.
const proxyEnv = "SVCPLANE_BENCH_USERSPACE_PROXY"

// proxyProc is the running proxy process.
type proxyProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

// startProxy starts the proxy process and waits until it has synced the
// Service.
func startProxy(env ...string) (*proxyProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(append(os.Environ(), proxyEnv+"=1"), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proxyProc{cmd: cmd, stdin: stdin}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		p.stop()
		return nil, fmt.Errorf("proxy process: %q %v", line, err)
	}
	return p, nil
}

// stop makes the proxy clean up and exit, and waits for it.
func (p *proxyProc) stop() error {
	p.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		return fmt.Errorf("proxy process did not exit")
	}
}

// cpu is the CPU time (user + system) the proxy process used so far.
func (p *proxyProc) cpu() time.Duration { return procCPU(p.cmd.Process.Pid) }

// runProxy is the proxy process: it syncs the Service, says "ready",
// and cleans up when its stdin closes.
func runProxy(ctx context.Context) error {
	sockmap := os.Getenv("SVCPLANE_BENCH_SOCKMAP") == "1"
	b, err := userspace.New(userspace.Config{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), Sockmap: sockmap})
	if err != nil {
		return err
	}
	defer b.Cleanup(ctx)
	if err := b.Sync(ctx, serviceState()); err != nil {
		return err
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// procCPU reads a process's user and system time from /proc (clock
// ticks of 10 ms; 0 when unreadable).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which ends with ')'.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// selfCPU is the CPU time (user + system) of this process's threads.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// kworkerCPU is the CPU time (user + system) of the kernel's worker
// threads so far: where the kernel does work deferred from a socket (a
// sockmap redirect's transmit runs there), which no process is charged.
func kworkerCPU() time.Duration {
	dirs, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/" + d.Name() + "/comm")
		if err != nil || !strings.HasPrefix(string(comm), "kworker") {
			continue
		}
		total += procCPU(pid)
	}
	return total
}
