package dnsserver

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"

	"github.com/svcplane/svcplane/internal/dns/cluster"
	"github.com/svcplane/svcplane/internal/kubeconfig"
)

// Main runs the DNS server with the command line of `svcplane dns` (and
// of `svcplane-dns`): args are the flags, name is the command's name.
func Main(ctx context.Context, name string, args []string) error {
	cfg, err := parseFlags(name, args)
	if err != nil {
		return err
	}
	return Run(ctx, cfg)
}

func parseFlags(name string, args []string) (Config, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var cfg Config
	kc := fs.String("kubeconfig", "", "kubeconfig of the API server (default: in-cluster, then $KUBECONFIG)")
	listen := fs.String("listen", "0.0.0.0:53", "addresses to serve on UDP and TCP, comma-separated")
	fs.StringVar(&cfg.Zone, "zone", cluster.DefaultZone, "the cluster domain")
	ttl := fs.Uint("ttl", uint(cluster.DefaultTTL), "TTL of cluster answers, 1 to 3600 seconds")
	fs.StringVar(&cfg.Pods, "pods", cluster.PodsDisabled, "a-b-c-d.<ns>.pod.<zone> records: disabled, insecure or verified")
	fs.BoolVar(&cfg.Autopath, "autopath", false, "answer a pod's first search-path query with the name that resolves (needs a pod watch)")
	upstream := fs.String("upstream", "", "DNS servers for names outside the cluster, comma-separated (default: those of --resolv-conf)")
	fs.StringVar(&cfg.ResolvConf, "resolv-conf", "/etc/resolv.conf", "resolv.conf naming the upstream servers")
	stubs := stubDomainFlag{}
	fs.Var(stubs, "stub-domain", "zone=server[,server] answered by its own servers (repeatable)")
	recursion := fs.String("recursion-from", "", "CIDRs whose clients may have names forwarded, comma-separated (default: everyone)")
	fs.StringVar(&cfg.HealthAddr, "health-addr", ":8080", "address of /health (empty: none)")
	fs.StringVar(&cfg.ReadyAddr, "ready-addr", ":8181", "address of /ready (empty: none)")
	fs.StringVar(&cfg.MetricsAddr, "metrics-addr", ":9153", "address of /metrics (empty: none)")
	fs.DurationVar(&cfg.Lameduck, "lameduck", 0, "how long to keep answering after SIGTERM while /ready says 503 (CoreDNS's health lameduck)")
	level := fs.String("log-level", "info", "log level: debug (one line per query), info, warn, error")
	conf := fs.String("conf", "", "a CoreDNS Corefile to read the settings from, as the coredns image's -conf (its supported subset; the other flags are then ignored)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *conf != "" {
		cf, err := readCorefile(*conf)
		if err != nil {
			return cfg, err
		}
		applyCorefile(&cfg, cf)
		*listen, *upstream, *recursion = ":"+cf.Port, strings.Join(cf.Upstreams, ","), ""
		*ttl = uint(cf.TTL)
	}
	if *ttl < 1 || *ttl > uint(cluster.MaxTTL) {
		return cfg, fmt.Errorf("--ttl %d: must be 1 to %d", *ttl, cluster.MaxTTL)
	}
	cfg.TTL = uint32(*ttl)
	cfg.Listen, cfg.Upstreams, cfg.StubDomains = splitList(*listen), splitList(*upstream), stubs
	for _, c := range splitList(*recursion) {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			return cfg, fmt.Errorf("--recursion-from %q: %w", c, err)
		}
		cfg.RecursionFrom = append(cfg.RecursionFrom, p)
	}
	if err := (cluster.Config{Zone: cfg.Zone, TTL: cfg.TTL, Pods: cfg.Pods}).Validate(); err != nil {
		return cfg, err
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(*level)); err != nil {
		return cfg, fmt.Errorf("--log-level %q: want debug, info, warn or error", *level)
	}
	rc, err := kubeconfig.RESTConfig(*kc)
	if err != nil {
		return cfg, err
	}
	rc.UserAgent = "svcplane-dns"
	cfg.RESTConfig = rc
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	return cfg, nil
}

// readCorefile reads and parses a Corefile.
func readCorefile(path string) (Corefile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Corefile{}, fmt.Errorf("-conf: %w", err)
	}
	cf, err := ParseCorefile(string(data))
	if err != nil {
		return cf, fmt.Errorf("%s: %w", path, err)
	}
	return cf, nil
}

// applyCorefile sets what a Corefile says (its port and upstreams go
// through the flags they replace).
func applyCorefile(cfg *Config, cf Corefile) {
	cfg.Zone, cfg.Pods, cfg.Autopath, cfg.CacheTTL = cf.Zone, cf.Pods, cf.Autopath, cf.CacheTTL
	cfg.HealthAddr, cfg.ReadyAddr, cfg.MetricsAddr = cf.HealthAddr, cf.ReadyAddr, cf.MetricsAddr
	cfg.Lameduck = cf.Lameduck
	if cf.ResolvConf != "" {
		cfg.ResolvConf = cf.ResolvConf
	}
	cfg.Refused, cfg.NoKubeDNSConfigMap = cf.Refused, true
}

// stubDomainFlag collects --stub-domain zone=server[,server].
type stubDomainFlag map[string][]string

func (f stubDomainFlag) String() string { return fmt.Sprint(map[string][]string(f)) }

func (f stubDomainFlag) Set(v string) error {
	zone, servers, ok := strings.Cut(v, "=")
	if !ok || zone == "" || len(splitList(servers)) == 0 {
		return fmt.Errorf("want zone=server[,server], got %q", v)
	}
	f[zone] = append(f[zone], splitList(servers)...)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
