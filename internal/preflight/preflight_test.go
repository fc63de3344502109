package preflight

import (
	"errors"
	"strings"
	"testing"
)

// fakeProbes is a machine described by maps; the zero parts are absent.
type fakeProbes struct {
	euid    int
	files   map[string]string // path -> contents; present paths exist
	paths   map[string]bool   // paths that exist without contents to read
	progs   map[string]bool
	taken   map[string]bool // addresses whose Listen fails
	free    uint64
	nftErr  error
	freeErr error
}

func (f *fakeProbes) Euid() int { return f.euid }
func (f *fakeProbes) ReadFile(p string) ([]byte, error) {
	if s, ok := f.files[p]; ok {
		return []byte(s), nil
	}
	return nil, errors.New("no such file")
}
func (f *fakeProbes) Exists(p string) bool {
	_, ok := f.files[p]
	return ok || f.paths[p]
}
func (f *fakeProbes) LookPath(n string) error {
	if f.progs[n] {
		return nil
	}
	return errors.New("not found")
}
func (f *fakeProbes) Listen(a string) error {
	if f.taken[a] {
		return errors.New("address already in use")
	}
	return nil
}
func (f *fakeProbes) FreeBytes(string) (uint64, error) { return f.free, f.freeErr }
func (f *fakeProbes) NFTables() error                  { return f.nftErr }

// goodMachine has everything up needs: cgroup v2, both iptables
// backends, nft, nsenter, ip_forward on.
func goodMachine() *fakeProbes {
	return &fakeProbes{
		files: map[string]string{
			"/proc/filesystems":                            "nodev\tcgroup2\nnodev\toverlay\n",
			"/sys/fs/cgroup/cgroup.controllers":            "cpuset cpu io memory hugetlb pids rdma misc\n",
			"/proc/sys/kernel/osrelease":                   "6.1.0-test\n",
			"/proc/sys/net/ipv4/ip_forward":                "1\n",
			"/proc/sys/net/bridge/bridge-nf-call-iptables": "1\n",
			"/proc/sys/net/netfilter/nf_conntrack_max":     "262144\n",
		},
		paths: map[string]bool{"/proc/self/ns/net": true, "/sys/module/bridge": true, "/proc/net/ip_tables_names": true},
		progs: map[string]bool{"nsenter": true, "nft": true,
			"iptables-legacy": true, "iptables-legacy-save": true, "iptables-legacy-restore": true,
			"iptables-nft": true, "iptables-nft-save": true, "iptables-nft-restore": true},
		taken: map[string]bool{},
		free:  10 << 30,
	}
}

func sandboxConfig() Config {
	return Config{Sandbox: true, APIAddress: "127.0.0.1:6443", DataDir: "/var/lib/svcplane"}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		cfg    func(*Config)
		mach   func(*fakeProbes)
		want   []string // one substring per problem line, in order
		warned []bool
	}{
		{name: "everything there"},
		{name: "everything there, nftables mode", cfg: func(c *Config) { c.ProxyMode = "nftables" }},
		{name: "not root", mach: func(m *fakeProbes) { m.euid = 1000 }, want: []string{"not root: "}},
		{name: "API port taken",
			mach: func(m *fakeProbes) { m.taken["127.0.0.1:6443"] = true },
			want: []string{"port 127.0.0.1:6443 for the API cannot be opened (address already in use): stop what holds it (another svcplane up?) or choose --secure-port"}},
		{name: "port 0 is not checked",
			cfg:  func(c *Config) { c.APIAddress = "127.0.0.1:0" },
			mach: func(m *fakeProbes) { m.taken["127.0.0.1:0"] = true }},
		{name: "agent port taken without a sandbox",
			cfg:  func(c *Config) { c.Sandbox, c.AgentAddress = false, ":10250" },
			mach: func(m *fakeProbes) { m.taken[":10250"] = true },
			want: []string{"port :10250 for the node agent"}},
		{name: "little disk", mach: func(m *fakeProbes) { m.free = 100 << 20 },
			want: []string{"only 100 MiB free under /var/lib/svcplane: up wants 256 MiB"}},
		{name: "no network namespaces", mach: func(m *fakeProbes) { delete(m.paths, "/proc/self/ns/net") },
			want: []string{"no network namespaces in this kernel"}},
		{name: "no bridge", mach: func(m *fakeProbes) { delete(m.paths, "/sys/module/bridge") },
			want: []string{"no Linux bridge"}},
		{name: "bridge loadable from modules.dep",
			mach: func(m *fakeProbes) {
				delete(m.paths, "/sys/module/bridge")
				m.files["/lib/modules/6.1.0-test/modules.dep"] = "kernel/net/bridge/bridge.ko: kernel/net/802/stp.ko\n"
			}},
		{name: "no overlay", mach: func(m *fakeProbes) { m.files["/proc/filesystems"] = "nodev\tcgroup2\n" },
			want: []string{"no overlay filesystem"}},
		{name: "no conntrack", mach: func(m *fakeProbes) { delete(m.files, "/proc/sys/net/netfilter/nf_conntrack_max") },
			want: []string{"no connection tracking"}},
		{name: "no conntrack needed without a proxy",
			cfg:  func(c *Config) { c.NoProxy = true },
			mach: func(m *fakeProbes) { delete(m.files, "/proc/sys/net/netfilter/nf_conntrack_max") }},
		{name: "nftables mode without nft or nf_tables",
			cfg: func(c *Config) { c.ProxyMode = "nftables" },
			mach: func(m *fakeProbes) {
				m.progs["nft"] = false
				m.nftErr = errors.New("invalid argument")
			},
			want: []string{"no nft in PATH: the nftables proxy mode writes its rules with it (Debian: apt-get install nftables)",
				"no nf_tables in this kernel (invalid argument; CONFIG_NF_TABLES)"}},
		{name: "iptables mode: legacy tools missing, nft backend works",
			mach: func(m *fakeProbes) { m.progs["iptables-legacy-restore"] = false }},
		{name: "iptables mode: no backend at all",
			mach: func(m *fakeProbes) {
				m.progs["iptables-legacy-restore"] = false
				m.nftErr = errors.New("invalid argument")
			},
			want: []string{"no iptables backend for the iptables proxy mode: no iptables-legacy-restore in PATH; iptables-nft: no nf_tables in the kernel (invalid argument)"}},
		{name: "legacy asked, kernel without ip_tables",
			cfg:  func(c *Config) { c.IPTablesBackend = "legacy" },
			mach: func(m *fakeProbes) { delete(m.paths, "/proc/net/ip_tables_names") },
			want: []string{"no iptables backend for the iptables proxy mode: iptables-legacy: no ip_tables in the kernel"}},
		{name: "userspace mode needs no netfilter tools",
			cfg:  func(c *Config) { c.ProxyMode = "userspace" },
			mach: func(m *fakeProbes) { m.progs = map[string]bool{"nsenter": true} }},
		{name: "sandbox without nsenter", mach: func(m *fakeProbes) { m.progs["nsenter"] = false },
			want: []string{"no nsenter in PATH"}},
		{name: "ipvs mode without ip_vs warns", cfg: func(c *Config) { c.ProxyMode = "ipvs" },
			want: []string{"no IPVS in this kernel (module ip_vs): --proxy-mode ipvs will run iptables mode"}, warned: []bool{true}},
		{name: "ipvs mode with ip_vs", cfg: func(c *Config) { c.ProxyMode = "ipvs" },
			mach: func(m *fakeProbes) { m.paths["/proc/net/ip_vs"] = true }},
		{name: "cgroup v1 without pids warns",
			mach: func(m *fakeProbes) {
				delete(m.files, "/sys/fs/cgroup/cgroup.controllers")
				m.files["/proc/cgroups"] = "#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t1\t25\t1\nmemory\t4\t9\t1\npids\t8\t25\t0\n"
			},
			want: []string{"cgroup controllers not enabled: pids"}, warned: []bool{true}},
		{name: "no cgroups at all", mach: func(m *fakeProbes) { delete(m.files, "/sys/fs/cgroup/cgroup.controllers") },
			want: []string{"no cgroups"}},
		{name: "sandbox without br_netfilter warns",
			mach: func(m *fakeProbes) { delete(m.files, "/proc/sys/net/bridge/bridge-nf-call-iptables") },
			want: []string{"no br_netfilter in this kernel"}, warned: []bool{true}},
		{name: "no sandbox: machine's sysctls off warn, fatal first",
			cfg: func(c *Config) { c.Sandbox = false },
			mach: func(m *fakeProbes) {
				m.files["/proc/sys/net/ipv4/ip_forward"] = "0\n"
				delete(m.files, "/proc/sys/net/bridge/bridge-nf-call-iptables")
				m.euid = 1000
			},
			want: []string{"not root",
				"net.ipv4.ip_forward is 0, not 1: up without --sandbox leaves the machine's settings alone; run sysctl -w net.ipv4.ip_forward=1",
				"net.bridge.bridge-nf-call-iptables is missing, not 1"},
			warned: []bool{false, true, true}},
		{name: "no agent: only root, ports and disk",
			cfg:  func(c *Config) { c.NoAgent = true },
			mach: func(m *fakeProbes) { m.progs = nil; m.paths = nil; m.files = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg, m := sandboxConfig(), goodMachine()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if tc.mach != nil {
				tc.mach(m)
			}
			got := Check(cfg, m)
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%s", len(got), len(tc.want), lines(got))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i].Line, w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i].Line, w)
				}
				warn := tc.warned != nil && tc.warned[i]
				if got[i].Warning != warn {
					t.Errorf("problem %d warning = %v, want %v", i, got[i].Warning, warn)
				}
			}
		})
	}
}

func lines(ps []Problem) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Line + "\n")
	}
	return b.String()
}

func TestGetGenAnswer(t *testing.T) {
	hdr := func(typ uint16, errno int32) []byte {
		b := make([]byte, 20)
		b[4], b[5] = byte(typ), byte(typ>>8)
		e := uint32(-errno)
		b[16], b[17], b[18], b[19] = byte(e), byte(e>>8), byte(e>>16), byte(e>>24)
		return b
	}
	cases := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"NEWGEN", hdr(10<<8|0x0f, 0), true},
		{"ack", hdr(2, 0), true},
		{"EPERM: not known here", hdr(2, 1), true},
		{"EINVAL: no nf_tables", hdr(2, 22), false},
		{"short", []byte{1, 2}, false},
	}
	for _, tc := range cases {
		if err := getGenAnswer(tc.in); (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// TestOSProbes runs the checks on this machine: they must answer (the
// problems depend on the machine and are only logged).
func TestOSProbes(t *testing.T) {
	cfg := sandboxConfig()
	cfg.APIAddress, cfg.DataDir = "127.0.0.1:0", t.TempDir()+"/not/yet"
	for _, p := range Check(cfg, OS{}) {
		t.Logf("warning %v: %s", p.Warning, p.Line)
	}
}

// BenchmarkCheckOS: the whole pre-flight of a sandboxed up on this
// machine (it must stay far below up's start, a few milliseconds).
func BenchmarkCheckOS(b *testing.B) {
	cfg := sandboxConfig()
	cfg.APIAddress, cfg.DataDir = "127.0.0.1:0", b.TempDir()
	for b.Loop() {
		Check(cfg, OS{})
	}
}
