// Command proxy measures svcplane's proxy backends (iptables with the
// legacy and the nft backend, nftables) on this machine, in network
// namespaces it creates and removes, and prints markdown tables:
//
//   - full sync time at each size, beside the bare apply of the very same
//     rules text into an empty namespace (the limit) and, for nftables,
//     kube-proxy's nftables layout for the same Services (the anchor);
//   - a partial sync after one endpoint change;
//   - network programming latency while endpoint changes stream through
//     svcplane's real sync loop (trackers, minSyncPeriod runner, Build);
//   - first-packet latency: TCP connect() from the node namespace to a
//     ClusterIP, answered by a listener in a veth'd pod namespace where
//     every endpoint address is local;
//   - the Go heap of the State and of the backend.
//
// It needs root, ip, nft and the iptables tools. Nothing leaves the
// namespaces it creates; they are removed on exit and on interrupt (a
// second interrupt removes them and exits at once).
//
//   - the peer table: svcplane's proxy and upstream kube-proxy (built by
//     hack/upstream/build.sh), both as programs in a node namespace with
//     only a kubeconfig, against one svcplane API server holding the same
//     Services: first and partial sync (as their metrics time them), RSS,
//     first-packet latency. A sync that takes longer than -timeout is
//     reported as "did not finish in" it.
//
//     go run ./bench/proxy [-sizes 1000,10000] [-timeout 5m] [-modes iptables-legacy,iptables-nft,nftables] [-connects 1000] [-peers=false | -peers-only]
//     go run ./bench/proxy -switch 1000 [-switch-modes iptables-legacy,nftables,userspace]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type config struct {
	sizes     []int // Services, for the sync and memory tables; the largest for partial syncs and the sync loop
	timeout   time.Duration
	modes     []string
	connects  int
	partials  int
	changes   int
	rate      float64 // changes per second
	minSync   time.Duration
	kubeProxy bool
	// switchSize, when set, runs only the live mode switch table between
	// switchModes at that many Services.
	switchSize  int
	switchModes []string
	// peers runs the peer table: svcplane's proxy and upstream kube-proxy
	// as programs against one API server (peersOnly: that table alone).
	peers, peersOnly          bool
	svcplaneBin, kubeProxyBin string
}

// runSizes are the sizes the first-packet table covers: 1 and sizes.
func (c config) runSizes() []int {
	out := append([]int{1}, c.sizes...)
	slices.Sort(out)
	return slices.Compact(out)
}

func (c config) largest() int { return slices.Max(c.sizes) }

func main() {
	var cfg config
	sizes := flag.String("sizes", "1000,10000", "numbers of Services (10 endpoints each), comma-separated")
	modeList := flag.String("modes", "iptables-legacy,iptables-nft,nftables", "proxy modes, comma-separated")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Minute, "limit of each measurement")
	flag.IntVar(&cfg.connects, "connects", 1000, "connections timed per mode and size (0: none)")
	flag.IntVar(&cfg.partials, "partials", 5, "partial syncs timed at the largest size")
	flag.IntVar(&cfg.changes, "changes", 200, "endpoint changes streamed through the sync loop at the largest size (0: none)")
	flag.Float64Var(&cfg.rate, "rate", 10, "endpoint changes per second")
	flag.DurationVar(&cfg.minSync, "min-sync", time.Second, "the sync loop's minSyncPeriod")
	flag.BoolVar(&cfg.kubeProxy, "kube-proxy", true, "time kube-proxy's nftables layout too")
	flag.BoolVar(&cfg.peers, "peers", true, "run svcplane's proxy and upstream kube-proxy as programs against one API server too (the peer table)")
	flag.BoolVar(&cfg.peersOnly, "peers-only", false, "run the peer table alone")
	flag.StringVar(&cfg.svcplaneBin, "svcplane-bin", "", "svcplane binary of the peer table (default: go build one)")
	flag.StringVar(&cfg.kubeProxyBin, "kube-proxy-bin", "", "kube-proxy binary of the peer table (default: hack/upstream/build.sh kube-proxy)")
	flag.IntVar(&cfg.switchSize, "switch", 0, "time only live mode switches at this many Services (0: the other tables)")
	switchList := flag.String("switch-modes", "iptables-legacy,nftables,userspace", "modes the -switch table pairs")
	flag.Parse()
	cfg.switchModes = parseList(*switchList)
	var err error
	if cfg.sizes, err = parseSizes(*sizes); err == nil {
		cfg.modes, err = parseModes(*modeList)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(cfg config) error {
	if os.Geteuid() != 0 {
		return errors.New("needs root: it creates network namespaces")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b := &bench{cfg: cfg, ns: newNamespaces(), results: map[string]map[int]*sizeResult{}}
	defer b.ns.delAll()
	onSignal(cancel, b.ns)
	printMachine(os.Stdout)
	if cfg.switchSize > 0 {
		return runSwitches(ctx, b, cfg)
	}
	var ms []mode
	for _, m := range modes() {
		if slices.Contains(cfg.modes, m.flag) {
			ms = append(ms, m)
		}
	}
	if !cfg.peersOnly {
		for _, m := range ms {
			if err := b.mode(ctx, m); err != nil {
				return err
			}
		}
		b.print(os.Stdout, ms)
	}
	if cfg.peers || cfg.peersOnly {
		err := b.runPeers(ctx, ms)
		b.printPeers(os.Stdout, ms)
		return err
	}
	return nil
}

func runSwitches(ctx context.Context, b *bench, cfg config) error {
	ms, err := switchModes(cfg.switchModes)
	if err != nil {
		return err
	}
	rows, err := b.switches(ctx, ms, cfg.switchSize)
	printSwitches(os.Stdout, rows, cfg.switchSize)
	return err
}

// onSignal cancels the run at the first interrupt (the deferred cleanup
// then removes the namespaces); a second one removes them and exits.
func onSignal(cancel context.CancelFunc, ns *namespaces) {
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		<-ch
		fmt.Fprintln(os.Stderr, "bench: interrupted, cleaning up (again to force)")
		cancel()
		<-ch
		ns.delAll()
		os.Exit(130)
	}()
}

func parseSizes(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-sizes: %q is not a positive number", f)
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func parseModes(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.ContainsFunc(modes(), func(m mode) bool { return m.flag == f }) {
			return nil, fmt.Errorf("-modes: unknown mode %q (iptables-legacy, iptables-nft, nftables)", f)
		}
		out = append(out, f)
	}
	return out, nil
}
