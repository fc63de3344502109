package app

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSandboxNodes(t *testing.T) {
	cfg := UpConfig{Sandbox: "dev", SandboxNodeIP: "10.240.0.2/24", Nodes: 3}
	cfg.Agent.NetnsDir = "/run/netns"
	nodes, err := sandboxNodes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range nodes {
		got = append(got, n.Name+" "+n.IP.String()+" "+n.Netns)
	}
	want := []string{
		"dev 10.240.0.2/24 /run/netns/sp-dev-node-dev",
		"dev-m02 10.240.0.3/24 /run/netns/sp-dev-node-dev-m02",
		"dev-m03 10.240.0.4/24 /run/netns/sp-dev-node-dev-m03",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
	for _, tc := range []struct {
		nodes int
		ip    string
		err   string
	}{
		{MaxSandboxNodes + 1, "10.240.0.2/24", "at most"},
		{3, "10.240.0.253/24", "has no room"},
		{2, "bad", "sandbox node IP"},
	} {
		cfg.Nodes, cfg.SandboxNodeIP = tc.nodes, tc.ip
		if _, err := sandboxNodes(cfg); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%d nodes from %s: %v, want %q", tc.nodes, tc.ip, err, tc.err)
		}
	}
}
