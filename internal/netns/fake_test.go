package netns

import (
	"net/netip"
	"strings"
	"testing"
)

func TestFakeAttachAndDump(t *testing.T) {
	f := NewFake()
	names := Names{Cluster: "t1"}
	pod := names.Pod("default", "web", "uid-1")
	p, _ := f.Create(pod)
	link := PodLink{NetnsPath: p, HostVeth: HostVeth("uid-1"), Bridge: BridgeName,
		Address: netip.MustParsePrefix("10.244.0.2/24"), Gateway: netip.MustParseAddr("10.244.0.1")}
	if err := f.AttachPod(link); err == nil {
		t.Fatal("attach without a bridge succeeded")
	}
	_ = f.EnsureBridge(Bridge{Name: BridgeName, Gateway: netip.MustParsePrefix("10.244.0.1/24")})
	if err := f.AttachPod(link); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"bridge spbr0 10.244.0.1/24",
		"netns sp-t1-pod-default-web-" + shortHash("uid-1"),
		"veth " + HostVeth("uid-1") + " master spbr0 peer sp-t1-pod-default-web-" + shortHash("uid-1") + ":eth0 10.244.0.2/24 via 10.244.0.1",
	}, "\n")
	if got := f.Dump(); got != want {
		t.Fatalf("dump:\n%s\nwant:\n%s", got, want)
	}
	_ = f.Delete(pod)
	if got := f.Dump(); got != "bridge spbr0 10.244.0.1/24" {
		t.Fatalf("after delete:\n%s", got)
	}
}

func TestNames(t *testing.T) {
	n := Names{Cluster: "e2e-1"}
	if got := n.Node("n1"); got != "sp-e2e-1-node-n1" {
		t.Errorf("node %s", got)
	}
	if got := HostVeth("x"); len(got) > 15 {
		t.Errorf("veth name %q too long", got)
	}
	for in, want := range map[string]bool{"a-1": true, "": false, "A": false, "a_b": false, strings.Repeat("a", 33): false} {
		if ValidCluster(in) != want {
			t.Errorf("ValidCluster(%q) != %v", in, want)
		}
	}
}
