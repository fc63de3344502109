package tour

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Config says how to run the tour.
type Config struct {
	// Bin is the svcplane binary (svcplane-init beside it); its
	// directory comes first in the steps' PATH.
	Bin string
	// Name is the sandbox's (and its first node's) name.
	Name string
	// OutDir receives the pages and screenshots; empty writes nothing.
	OutDir string
	// Short runs only the pages marked Short (a check).
	Short bool
	// UpArgs are more flags for `svcplane up`.
	UpArgs []string
	// Log receives a line per step; nil discards.
	Log io.Writer
}

// Result is one step's shown command and output.
type Result struct {
	Cmd, Out string
}

// Run starts a sandboxed cluster, runs the pages' steps and writes the
// pages, then stops the cluster and removes all it made (also on
// failure or when ctx ends).
func Run(ctx context.Context, cfg Config, pages []Page) (err error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	c, err := startCluster(ctx, cfg)
	if c != nil {
		defer func() { err = errors.Join(err, c.stop(cfg)) }()
	}
	if err != nil {
		return err
	}
	for _, p := range pages {
		if cfg.Short && !p.Short {
			continue
		}
		res, err := c.runPage(ctx, cfg, p)
		if err != nil {
			return fmt.Errorf("%s: %w", p.File, err)
		}
		if cfg.OutDir != "" {
			if err := os.WriteFile(filepath.Join(cfg.OutDir, p.File), []byte(Render(p, res, c.vars(""))), 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// ShownDataDir stands for the cluster's data directory in the pages.
const ShownDataDir = "/tmp/tour"

// cluster is the running `svcplane up`.
type cluster struct {
	cmd     *exec.Cmd
	dir     string
	env     []string
	name    string
	ui      string
	outDir  string
	stopped chan struct{}
}

func (c *cluster) vars(png string) Vars { return Vars{Node: c.name, UI: c.ui, PNG: png} }

// startCluster runs `svcplane up --sandbox` on a free port and waits
// until it says it is up.
func startCluster(ctx context.Context, cfg Config) (*cluster, error) {
	dir, err := os.MkdirTemp("", "svcplane-tour-")
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := append([]string{"up", "--sandbox", cfg.Name, "--data-dir", dir, "--secure-port", strconv.Itoa(port),
		"--ui-port", "0"}, append(UpArgs(), cfg.UpArgs...)...)
	c := &cluster{dir: dir, name: cfg.Name, outDir: cfg.OutDir, stopped: make(chan struct{})}
	c.cmd = exec.Command(cfg.Bin, args...)
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	logf, err := os.Create(filepath.Join(dir, "up.log"))
	if err != nil {
		return nil, err
	}
	c.cmd.Stderr = logf
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "tour: svcplane %s (log: %s)\n", strings.Join(args, " "), logf.Name())
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = c.cmd.Wait(); logf.Close(); close(c.stopped) }()
	c.env = append(os.Environ(), "KUBECONFIG="+filepath.Join(dir, "admin.kubeconfig"),
		"PATH="+filepath.Dir(cfg.Bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	return c, c.waitUp(ctx, stdout)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitUp reads up's standard output until its "Press Ctrl-C" line,
// keeping it for the first page and the live view's address.
func (c *cluster) waitUp(ctx context.Context, stdout io.Reader) error {
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var b strings.Builder
	timeout := time.After(2 * time.Minute)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return fmt.Errorf("svcplane up stopped before it was up (log: %s):\n%s", filepath.Join(c.dir, "up.log"), b.String())
			}
			b.WriteString(l + "\n")
			if rest, ok := strings.CutPrefix(l, "svcplane: live view at "); ok {
				c.ui = strings.TrimSpace(rest)
			}
			if strings.HasPrefix(l, "Press Ctrl-C") {
				if err := os.WriteFile(filepath.Join(c.dir, "up.stdout"), []byte(b.String()), 0o644); err != nil {
					return err
				}
				go func() {
					for range lines {
					}
				}()
				return nil
			}
		case <-timeout:
			return fmt.Errorf("svcplane up not up after 2 minutes:\n%s", b.String())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// stop ends up (SIGTERM, then SIGKILL after 40 s) and runs `svcplane
// down`, which removes the sandbox's namespaces and processes.
func (c *cluster) stop(cfg Config) error {
	_ = syscall.Kill(c.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-c.stopped:
	case <-time.After(40 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.stopped
	}
	out, err := exec.Command(cfg.Bin, "down", "--sandbox", c.name, "--data-dir", c.dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("svcplane down: %w\n%s", err, out)
	}
	fmt.Fprintf(cfg.Log, "tour: cluster removed\n")
	return os.RemoveAll(c.dir)
}

// runPage runs a page's steps; a shown step's result is kept.
func (c *cluster) runPage(ctx context.Context, cfg Config, p Page) ([]Result, error) {
	res := make([]Result, len(p.Steps))
	for i, s := range p.Steps {
		if s.Cmd == "" {
			continue
		}
		png := ""
		if s.Screenshot != "" {
			png = filepath.Join(orTemp(c.outDir, c.dir), s.Screenshot)
		}
		cmd, err := expand(s.Cmd, c.vars(png))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(cfg.Log, "tour: %s: %s\n", p.File, firstLine(cmd))
		out, err := c.runStep(ctx, cmd, s.Until)
		if err != nil && !s.MayFail {
			return nil, fmt.Errorf("step %q: %w\n%s", cmd, err, out)
		}
		shown, _ := expand(orString(s.Shown, s.Cmd), c.vars(s.Screenshot))
		res[i] = Result{Cmd: shown, Out: strings.ReplaceAll(out, c.dir, ShownDataDir)}
	}
	return res, nil
}

func orTemp(dir, tmp string) string {
	if dir == "" {
		return tmp
	}
	return dir
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// runStep runs one command line with bash (stdout and stderr together,
// as a terminal shows them), at most a minute; until repeats it until
// it succeeds.
func (c *cluster) runStep(ctx context.Context, cmd string, until bool) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		out, err := c.bash(ctx, cmd)
		if err == nil || !until {
			return out, err
		}
		select {
		case <-ctx.Done():
			return out, fmt.Errorf("not true within a minute: %w", err)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *cluster) bash(ctx context.Context, cmd string) (string, error) {
	x := exec.CommandContext(ctx, "bash", "-o", "pipefail", "-c", cmd)
	x.Env, x.Dir = c.env, c.dir
	var buf lockedBuffer
	x.Stdout, x.Stderr = &buf, &buf
	x.WaitDelay = 5 * time.Second
	err := x.Run()
	return buf.String(), err
}

// lockedBuffer takes stdout and stderr of one process in order.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
