package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"github.com/svcplane/svcplane/bench/internal/benchutil"
	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/iptables"
	"github.com/svcplane/svcplane/internal/proxy/nftables"
)

// runIn runs fn where a backend's calls must run.
type runIn func(fn func() error) error

// instance is a backend programming one node namespace.
type instance struct {
	proxy.Backend
	in runIn
	// rules is the exact text the backend applied in its last sync.
	rules func() []byte
}

func (i *instance) sync(ctx context.Context, st *proxy.State) error {
	return i.in(func() error { return i.Sync(ctx, st) })
}

// mode is one proxy mode under test.
type mode struct {
	name string // as printed
	flag string // as -modes names it
	tool string // what applies the rules text
	// start returns a backend programming the namespace name.
	start func(ctx context.Context, ns *namespaces, name string) (*instance, error)
	// apply loads a rules text into the empty namespace name with tool.
	apply func(ctx context.Context, ns *namespaces, name string, text []byte) error
	// anchor is kube-proxy's layout for the same Services and its number
	// of chains; nil when kube-proxy's layout is the backend's own.
	anchor func(st *proxy.State) ([]byte, int)
}

func modes() []mode {
	return []mode{iptablesMode(iptables.BackendLegacy), iptablesMode(iptables.BackendNFT), nftablesMode()}
}

func iptablesMode(which string) mode {
	tool := "iptables-" + which + "-restore"
	return mode{
		name: "iptables " + which,
		flag: "iptables-" + which,
		tool: tool,
		start: func(ctx context.Context, ns *namespaces, name string) (*instance, error) {
			in := inNetns(name)
			var b *iptables.Backend
			err := in(func() error {
				var err error
				b, err = iptables.New(ctx, iptables.Config{Exec: lockedExec{ns.lock}, IPTablesBackend: which, Logger: benchutil.Quiet()})
				return err
			})
			// A copy: the backend reuses the buffer on its next sync.
			return &instance{Backend: b, in: in, rules: func() []byte { return bytes.Clone(b.LastRestore()) }}, err
		},
		apply: func(ctx context.Context, ns *namespaces, name string, text []byte) error {
			return inNetns(name)(func() error {
				_, err := lockedExec{ns.lock}.Run(ctx, tool, []string{"-w", "5", "--noflush", "--counters"}, text)
				return err
			})
		},
	}
}

func nftablesMode() mode {
	return mode{
		name: "nftables",
		flag: "nftables",
		tool: "nft -f",
		start: func(ctx context.Context, _ *namespaces, name string) (*instance, error) {
			in := inNetns(name)
			var b *nftables.Backend
			err := in(func() error {
				var err error
				b, err = nftables.New(nftables.Config{Logger: benchutil.Quiet()})
				return err
			})
			return &instance{Backend: b, in: in, rules: listing(ctx, b, in)}, err
		},
		apply:  nftApply,
		anchor: kubeProxyLayout,
	}
}

// listing returns the table as nft lists it after the sync: the same
// rules and elements, as one `nft -f` loads them fastest (the elements
// of a map in one command). The backend's full sync is several steps,
// its large maps loaded through netlink, so it has no text of its own.
func listing(ctx context.Context, b *nftables.Backend, in runIn) func() []byte {
	return func() []byte {
		var text string
		if err := in(func() error {
			var err error
			text, err = b.Rules(ctx)
			return err
		}); err != nil {
			fmt.Fprintf(os.Stderr, "nft list table: %v\n", err)
			return nil
		}
		return []byte(text)
	}
}

// nftApply runs `nft -f -` with text inside the namespace name.
func nftApply(ctx context.Context, _ *namespaces, name string, text []byte) error {
	return inNetns(name)(func() error {
		cmd := exec.CommandContext(ctx, "nft", "-f", "-")
		cmd.Stdin = bytes.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("nft -f: %w: %s", err, firstLines(string(out), 5))
		}
		return nil
	})
}

// inNetns runs fn on a thread in the network namespace name: the sockets
// it opens and the tools it starts (nft, iptables-restore) live there.
func inNetns(name string) runIn {
	return func(fn func() error) error { return netns.Do(nsPath(name), fn) }
}

// lockedExec runs the iptables tools with an xtables lock file of the
// bench's own: iptables-legacy otherwise takes /run/xtables.lock, shared
// by every namespace of the machine, and a 10,000-Service restore holding
// it would make other users' `iptables -w 5` give up.
type lockedExec struct{ lock string }

var _ iptables.StreamExec = lockedExec{}

func (e lockedExec) Run(ctx context.Context, name string, args []string, stdin []byte) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "XTABLES_LOCKFILE="+e.lock)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		return out, nil
	}
	// %w keeps the *exec.ExitError, whose exit status the backend reads.
	if msg := firstLines(stderr.String(), 3); msg != "" {
		return out, fmt.Errorf("%s: %w: %s", name, err, msg)
	}
	return out, fmt.Errorf("%s: %w", name, err)
}

// RunStream is Run with the standard input written by write as the tool
// reads it, as the backend streams its restore input.
func (e lockedExec) RunStream(ctx context.Context, name string, args []string, write func(io.Writer) error) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), "XTABLES_LOCKFILE="+e.lock)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	werr := write(stdin)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		if msg := firstLines(stderr.String(), 3); msg != "" {
			return stdout.Bytes(), fmt.Errorf("%s: %w: %s", name, err, msg)
		}
		return stdout.Bytes(), fmt.Errorf("%s: %w", name, err)
	}
	if werr != nil {
		return stdout.Bytes(), fmt.Errorf("%s: write standard input: %w", name, werr)
	}
	return stdout.Bytes(), nil
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "...")
	}
	return strings.Join(lines, "\n")
}
