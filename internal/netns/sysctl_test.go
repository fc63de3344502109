package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestEnsureSysctls runs over a fake /proc/sys in a directory.
func TestEnsureSysctls(t *testing.T) {
	cases := []struct {
		name    string
		files   map[string]string // key -> value present before
		modLoad map[string]string // module -> key it brings
		want    string            // the results' strings, one a line
	}{
		{
			name:  "all off",
			files: map[string]string{"net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0", "net.bridge.bridge-nf-call-iptables": "0", "net.bridge.bridge-nf-call-ip6tables": "0"},
			want: `net.ipv4.ip_forward=1 (was 0)
net.ipv6.conf.all.forwarding=1 (was 0)
net.bridge.bridge-nf-call-iptables=1 (was 0)
net.bridge.bridge-nf-call-ip6tables=1 (was 0)`,
		},
		{
			name:    "bridge keys come with the module",
			files:   map[string]string{"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1"},
			modLoad: map[string]string{"br_netfilter": "net.bridge.bridge-nf-call-iptables net.bridge.bridge-nf-call-ip6tables"},
			want: `net.ipv4.ip_forward=1
net.ipv6.conf.all.forwarding=1
net.bridge.bridge-nf-call-iptables=1 (was 0)
net.bridge.bridge-nf-call-ip6tables=1 (was 0)`,
		},
		{
			name:  "no module, no IPv6",
			files: map[string]string{"net.ipv4.ip_forward": "1"},
			want: `net.ipv4.ip_forward=1
net.ipv6.conf.all.forwarding: read: open ROOT/net/ipv6/conf/all/forwarding: no such file or directory
net.bridge.bridge-nf-call-iptables: missing, and module br_netfilter did not load: no such module
net.bridge.bridge-nf-call-ip6tables: missing, and module br_netfilter did not load: no such module`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for k, v := range tc.files {
				writeKey(t, root, k, v)
			}
			load := func(m string) error {
				keys, ok := tc.modLoad[m]
				if !ok {
					return errors.New("no such module")
				}
				for _, k := range strings.Fields(keys) {
					writeKey(t, root, k, "0")
				}
				return nil
			}
			var lines []string
			for _, r := range EnsureSysctls(root, NodeSysctls(), load) {
				lines = append(lines, strings.ReplaceAll(r.String(), root, "ROOT"))
			}
			if got := strings.Join(lines, "\n"); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func writeKey(t *testing.T, root, key, value string) {
	t.Helper()
	p := SysctlFile(root, key)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestKernelNodeSysctls sets the node sysctls in a throwaway namespace
// and checks the machine's own are untouched.
func TestKernelNodeSysctls(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	before := hostSysctls(t)
	dir := NewDir(t.TempDir())
	t.Cleanup(func() { _ = unix.Unmount(dir.Root, unix.MNT_DETACH) })
	name := fmt.Sprintf("sp-ut%d-sysctl", os.Getpid())
	path, err := dir.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dir.Delete(name) })
	if _, err := SetupNodeSysctls(path); err == nil {
		t.Fatal("SetupNodeSysctls ran outside the node namespace")
	}
	var res []SysctlResult
	if err := Do(path, func() (err error) { res, err = SetupNodeSysctls(path); return err }); err != nil {
		t.Fatal(err)
	}
	for _, r := range res[:2] { // forwarding exists on every kernel with IPv6
		if r.Err != nil || r.Now != "1" {
			t.Errorf("%s", r)
		}
	}
	for _, r := range res {
		t.Log(r)
	}
	if after := hostSysctls(t); after != before {
		t.Errorf("the machine's sysctls changed: %s -> %s", before, after)
	}
}

func hostSysctls(t *testing.T) string {
	var vals []string
	for _, s := range NodeSysctls() {
		v, _ := ReadSysctl(ProcSys, s.Key)
		vals = append(vals, s.Key+"="+v)
	}
	return strings.Join(vals, " ")
}
