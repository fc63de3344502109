package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"

	mdns "github.com/miekg/dns"
)

// forwardedNames is how many distinct names outside the cluster the mix
// asks: few enough that both servers' caches stay warm.
const forwardedNames = 100

// queryKind is one part of the query mix: its share in percent and how
// its query number r (random) is written, in dnsperf's "name TYPE" form.
type queryKind struct {
	name    string
	percent int
	line    func(services int, r int) string
}

// mix is the query mix: names of existing Services, SRV of their named
// ports, names that do not exist in the cluster zone (missing Services,
// and outside names with a search-path suffix, as ndots:5 makes them),
// and outside names answered by the local upstream through the cache.
var mix = []queryKind{
	{"cluster A", 50, func(n, r int) string { return clusterA(r % n) }},
	{"SRV", 15, func(n, r int) string {
		i := r % n
		return fmt.Sprintf("_http._tcp.%s.%s.svc.cluster.local SRV", svcName(i), svcNamespace(i))
	}},
	{"NXDOMAIN", 20, func(n, r int) string {
		if r%2 == 0 {
			return fmt.Sprintf("missing-%d.%s.svc.cluster.local A", r%n, svcNamespace(r))
		}
		return fmt.Sprintf("host-%d.bench.example.%s.svc.cluster.local A", r%forwardedNames, svcNamespace(r))
	}},
	{"forwarded", 15, func(_, r int) string { return fmt.Sprintf("host-%d.bench.example A", r%forwardedNames) }},
}

func clusterA(i int) string {
	return fmt.Sprintf("%s.%s.svc.cluster.local A", svcName(i), svcNamespace(i))
}

// mixQueries returns count query lines in a fixed pseudo-random order.
func mixQueries(services, count int) []string {
	rng := rand.New(rand.NewPCG(11, 1))
	var lines []string
	for _, k := range mix {
		for range count * k.percent / 100 {
			lines = append(lines, k.line(services, rng.IntN(1<<30)))
		}
	}
	rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return lines
}

// clusterAQueries returns count A queries of random existing Services.
func clusterAQueries(services, count int) []string {
	rng := rand.New(rand.NewPCG(11, 2))
	lines := make([]string, count)
	for i := range lines {
		lines[i] = clusterA(rng.IntN(services))
	}
	return lines
}

func writeLines(path string, lines []string) error {
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

// readQueries reads a dnsperf query file into messages as dnsperf sends
// them: RD set, no EDNS.
func readQueries(path string) ([]*mdns.Msg, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []*mdns.Msg
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, typ, ok := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		t, known := mdns.StringToType[typ]
		if !ok || !known {
			return nil, fmt.Errorf("%s: bad query line %q", path, sc.Text())
		}
		out = append(out, new(mdns.Msg).SetQuestion(mdns.Fqdn(name), t))
	}
	return out, sc.Err()
}
