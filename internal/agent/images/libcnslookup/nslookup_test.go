package libcnslookup

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/miekg/dns"
)

// zone is a test server's records, in zone-file syntax.
type zone []string

// server is a miekg/dns server answering from a zone (SERVFAIL without
// one) and logging the names asked for A records.
type server struct {
	port    string
	records map[string][]dns.RR
	failing bool // SERVFAIL for everything
	mu      sync.Mutex
	asked   []string
}

func startServer(t *testing.T, addr string, z zone) *server {
	t.Helper()
	s := &server{records: map[string][]dns.RR{}, failing: z == nil}
	for _, line := range z {
		rr, err := dns.NewRR(line)
		if err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		name := strings.ToLower(rr.Header().Name)
		s.records[name] = append(s.records[name], rr)
	}
	started := make(chan struct{})
	srv := &dns.Server{Addr: addr, Net: "udp", Handler: s, NotifyStartedFunc: func() { close(started) }}
	failed := make(chan error, 1)
	go func() { failed <- srv.ListenAndServe() }()
	select {
	case <-started:
	case err := <-failed:
		t.Fatalf("dns server on %s: %v", addr, err)
	}
	_, s.port, _ = strings.Cut(srv.PacketConn.LocalAddr().String(), ":")
	t.Cleanup(func() { srv.Shutdown() })
	return s
}

func (s *server) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	m := new(dns.Msg).SetReply(q)
	name, qtype := strings.ToLower(q.Question[0].Name), q.Question[0].Qtype
	if qtype == dns.TypeA {
		s.mu.Lock()
		s.asked = append(s.asked, name)
		s.mu.Unlock()
	}
	rrs, ok := s.records[name]
	switch {
	case s.failing:
		m.Rcode = dns.RcodeServerFailure
	case !ok:
		m.Rcode = dns.RcodeNameError
	}
	for _, rr := range rrs {
		if rr.Header().Rrtype == qtype {
			m.Answer = append(m.Answer, rr)
		}
	}
	w.WriteMsg(m)
}

var clusterZone = zone{
	"kubernetes.default.svc.cluster.local. A 10.96.0.1",
	"1.0.96.10.in-addr.arpa. PTR kubernetes.default.svc.cluster.local.",
	"1.0.0.127.in-addr.arpa. PTR kube-dns.kube-system.svc.cluster.local.",
	"web.default.svc.cluster.local. A 10.244.0.5",
	"web.svc.cluster.local. A 10.244.9.9",
	"example.com. A 192.0.2.80",
	"dual.example. A 192.0.2.7",
	"dual.example. AAAA fd00::7",
	"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. PTR dual.example.",
	"nodata.default.svc.cluster.local. TXT \"no address\"",
	"nodata.svc.cluster.local. A 10.244.8.8",
}

var otherZone = zone{
	"other.test. A 198.51.100.1",
	"1.0.0.127.in-addr.arpa. PTR other-dns.test.",
}

const clusterResolv = "search default.svc.cluster.local svc.cluster.local cluster.local\nnameserver 127.0.0.1\noptions ndots:5\n"

const serverBlock = "Server:    127.0.0.1\nAddress 1: 127.0.0.1 kube-dns.kube-system.svc.cluster.local\n\n"

func TestMain(t *testing.T) {
	cluster := startServer(t, "127.0.0.1:0", clusterZone)
	other := startServer(t, "127.0.0.1:0", otherZone)
	startServer(t, "127.0.0.2:"+cluster.port, nil)
	tests := []struct {
		name   string
		args   []string
		resolv string // clusterResolv when empty
		stdout string
		stderr string
		code   int
		asked  []string // names asked for A records, when checked
	}{
		{name: "search list hit", args: []string{"kubernetes"},
			stdout: serverBlock + "Name:      kubernetes\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n",
			asked:  []string{"kubernetes.default.svc.cluster.local."}},
		{name: "partial name through the search list", args: []string{"kubernetes.default"},
			stdout: serverBlock + "Name:      kubernetes.default\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n",
			asked:  []string{"kubernetes.default.default.svc.cluster.local.", "kubernetes.default.svc.cluster.local."}},
		{name: "first search domain wins, no reverse name", args: []string{"web"},
			stdout: serverBlock + "Name:      web\nAddress 1: 10.244.0.5\n"},
		{name: "no address data passes to the next domain", args: []string{"nodata"},
			stdout: serverBlock + "Name:      nodata\nAddress 1: 10.244.8.8\n"},
		{name: "bare name after the search list", args: []string{"example.com"},
			stdout: serverBlock + "Name:      example.com\nAddress 1: 192.0.2.80\n",
			asked: []string{"example.com.default.svc.cluster.local.", "example.com.svc.cluster.local.",
				"example.com.cluster.local.", "example.com."}},
		{name: "bare name first with enough dots", args: []string{"example.com"},
			resolv: "search default.svc.cluster.local\nnameserver 127.0.0.1\n",
			stdout: serverBlock + "Name:      example.com\nAddress 1: 192.0.2.80\n",
			asked:  []string{"example.com."}},
		{name: "trailing dot is absolute", args: []string{"kubernetes."},
			stdout: serverBlock, stderr: "nslookup: can't resolve 'kubernetes.'\n", code: 1,
			asked: []string{"kubernetes."}},
		{name: "absolute name", args: []string{"kubernetes.default.svc.cluster.local."},
			stdout: serverBlock + "Name:      kubernetes.default.svc.cluster.local.\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n"},
		{name: "a failing server passes to the next", args: []string{"kubernetes"},
			resolv: "nameserver 127.0.0.2\n" + clusterResolv,
			stdout: "Server:    127.0.0.2\nAddress 1: 127.0.0.2\n\n" +
				"Name:      kubernetes\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n"},
		{name: "failure", args: []string{"nosuch"},
			stdout: serverBlock, stderr: "nslookup: can't resolve 'nosuch'\n", code: 1},
		{name: "IPv6 first, each with its reverse name", args: []string{"dual.example"},
			stdout: serverBlock + "Name:      dual.example\nAddress 1: fd00::7 dual.example\nAddress 2: 192.0.2.7\n"},
		{name: "address as host", args: []string{"10.96.0.1"},
			stdout: serverBlock + "Name:      10.96.0.1\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n"},
		{name: "hosts file", args: []string{"pod-a"},
			stdout: serverBlock + "Name:      pod-a\nAddress 1: 192.0.2.50 pod-a\n", asked: []string{}},
		{name: "hosts file, case and trailing dot", args: []string{"LocalHost."},
			stdout: serverBlock + "Name:      LocalHost.\nAddress 1: ::1 localhost\n"},
		{name: "explicit server", args: []string{"other.test", "127.0.0.1:" + other.port},
			stdout: "Server:    127.0.0.1\nAddress 1: 127.0.0.1 other-dns.test\n\nName:      other.test\nAddress 1: 198.51.100.1\n"},
		{name: "explicit server only", args: []string{"kubernetes", "127.0.0.1:" + other.port},
			stdout: "Server:    127.0.0.1\nAddress 1: 127.0.0.1 other-dns.test\n\n", stderr: "nslookup: can't resolve 'kubernetes'\n", code: 1},
		{name: "bad server", args: []string{"kubernetes", "nosuch-server"},
			stderr: "nslookup: bad address 'nosuch-server'\n", code: 1},
		{name: "usage without host", stderr: usage, code: 1},
		{name: "usage for an option", args: []string{"-type=a", "kubernetes"}, stderr: usage, code: 1},
		{name: "usage for three arguments", args: []string{"a", "b", "c"}, stderr: usage, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			resolv := tt.resolv
			if resolv == "" {
				resolv = clusterResolv
			}
			cfg := Config{
				ResolvConf: writeFile(t, dir, "resolv.conf", resolv),
				Hosts:      writeFile(t, dir, "hosts", "::1\tlocalhost ip6-localhost\n192.0.2.50\tpod-a # the pod\n"),
				Port:       cluster.port,
				Usable:     func(netip.Addr) bool { return true },
			}
			var stdout, stderr bytes.Buffer
			cfg.Stdout, cfg.Stderr = &stdout, &stderr
			cluster.mu.Lock()
			cluster.asked = []string{}
			cluster.mu.Unlock()
			code := Main(cfg, tt.args)
			if diff := cmp.Diff(tt.stdout, stdout.String()); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.stderr, stderr.String()); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if tt.asked != nil {
				cluster.mu.Lock()
				defer cluster.mu.Unlock()
				if diff := cmp.Diff(tt.asked, cluster.asked); diff != "" {
					t.Errorf("names asked (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestSortUnusableLast(t *testing.T) {
	v6 := netip.MustParseAddr("fd00::7")
	r := &resolver{cfg: Config{Usable: func(a netip.Addr) bool { return a != v6 }}}
	got := r.sort([]netip.Addr{v6, netip.MustParseAddr("192.0.2.7"), netip.MustParseAddr("192.0.2.7")})
	if want := fmt.Sprint([]netip.Addr{netip.MustParseAddr("192.0.2.7"), v6}); fmt.Sprint(got) != want {
		t.Errorf("sorted %v, want %s", got, want)
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
