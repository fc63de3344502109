package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/netns"
)

// tutorialThousandPods: a Service over 1,000 ready pods (simulated
// runtime, a /21 of pod addresses for the node) has 10 EndpointSlices of
// 100 and an Endpoints of 1,000 addresses; at 1,001 pods the slices take
// the last one in an eleventh, and the Endpoints stays at 1,000 with the
// over-capacity annotation (upstream's limit).
func tutorialThousandPods(t *testing.T) {
	s := startSandbox(t, "--runtime", "simulated", "--node-cidr-mask-size", "21")
	s.must(t, "create", "deployment", "big", "--image=registry.k8s.io/pause:3.10", "--replicas=1000")
	s.must(t, "expose", "deployment", "big", "--port=80")
	s.waitReadyReplicas(t, "deployment", "big", 1000, 5*time.Minute)
	s.waitEndpointCounts(t, "big", "100 100 100 100 100 100 100 100 100 100", 1000, "")
	s.must(t, "scale", "deployment", "big", "--replicas=1001")
	s.waitReadyReplicas(t, "deployment", "big", 1001, 2*time.Minute)
	s.waitEndpointCounts(t, "big", "1 100 100 100 100 100 100 100 100 100 100", 1000, "truncated")
	s.waitOut(t, 10*time.Second, []string{"get", "ep", "big"}, `big\s+\S+:80,\S+:80,\S+:80 \+ 997 more\.\.\.`)
}

// waitEndpointCounts waits until svc's EndpointSlices hold slices
// endpoints each (sorted) and its Endpoints addresses, annotated
// over-capacity as given ("" for none).
func (s *sandbox) waitEndpointCounts(t *testing.T, svc, slices string, addresses int, overCapacity string) {
	t.Helper()
	s.waitFor(t, 2*time.Minute, svc+": slices of "+slices+", Endpoints of "+strconv.Itoa(addresses), func() (bool, string) {
		out, _ := s.kubectl("get", "endpointslices", "-l", "kubernetes.io/service-name="+svc, "-o", `jsonpath={range .items[*]}{.metadata.name}{" "}{range .endpoints[*]}x{end}{"\n"}{end}`)
		var sizes []int
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				sizes = append(sizes, len(f[1]))
			}
		}
		slicesSeen := sortedInts(sizes)
		ep, _ := s.kubectl("get", "ep", svc, "-o", `jsonpath={.metadata.annotations.endpoints\.kubernetes\.io/over-capacity} {range .subsets[*].addresses[*]}x{end}`)
		f := strings.Fields(ep)
		n, anno := 0, ""
		switch len(f) {
		case 1:
			n = len(f[0])
		case 2:
			anno, n = f[0], len(f[1])
		}
		seen := fmt.Sprintf("slices %s; Endpoints %d, over-capacity %q", slicesSeen, n, anno)
		return slicesSeen == slices && n == addresses && anno == overCapacity, seen
	})
}

func sortedInts(in []int) string {
	slices.Sort(in)
	out := make([]string, len(in))
	for i, n := range in {
		out[i] = strconv.Itoa(n)
	}
	return strings.Join(out, " ")
}

// hostStateOf is what a cluster could leave on the machine: the
// namespaces named for it, the host's links, its iptables and nftables
// rules, and its cgroups.
type hostStateOf struct {
	namespaces []string
	links      []string
	rules      []string
	cgroups    []string
}

func hostState(t *testing.T, cluster string) hostStateOf {
	t.Helper()
	var st hostStateOf
	st.namespaces, _ = netns.NewDir("").List(netns.Names{Cluster: cluster}.Prefix())
	out, _ := exec.Command("ip", "-o", "link", "show").CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			st.links = append(st.links, strings.SplitN(strings.TrimSuffix(f[1], ":"), "@", 2)[0])
		}
	}
	for _, cmd := range [][]string{{"iptables-save"}, {"iptables-legacy-save"}, {"nft", "list", "tables"}} {
		out, _ := exec.Command(cmd[0], cmd[1:]...).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "KUBE-") || strings.Contains(line, "svcplane") || strings.Contains(line, "kube-proxy") {
				st.rules = append(st.rules, cmd[0]+": "+line)
			}
		}
	}
	st.cgroups, _ = filepath.Glob("/sys/fs/cgroup/*/svcplane-" + cluster + "-*")
	more, _ := filepath.Glob("/sys/fs/cgroup/svcplane-" + cluster + "-*")
	st.cgroups = append(st.cgroups, more...)
	return st
}

// checkNothingLeft: Ctrl-C stops up (its pods keep running, as
// containers do when a kubelet stops), then svcplane down removes the
// cluster: no namespace, link, rule, cgroup or process of it is left,
// and the host's own links and rules are as they were.
func (s *sandbox) checkNothingLeft(t *testing.T, before hostStateOf) {
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out, err := down(t, "--data-dir", s.dataDir)
	if err != nil {
		t.Fatalf("svcplane down: %v\n%s", err, out)
	}
	after := hostState(t, s.name)
	if len(after.namespaces) > 0 {
		t.Errorf("namespaces left: %v", after.namespaces)
	}
	if len(after.cgroups) > 0 {
		t.Errorf("cgroups left: %v", after.cgroups)
	}
	for _, l := range after.links {
		if !slices.Contains(before.links, l) && (strings.HasPrefix(l, "sp") || strings.HasPrefix(l, "veth") || strings.HasPrefix(l, "kube")) {
			t.Errorf("a new link on the host: %s", l)
		}
	}
	for _, r := range after.rules {
		if !slices.Contains(before.rules, r) {
			t.Errorf("a new rule on the host: %s", r)
		}
	}
	if left := namingDir(t, s.dataDir); len(left) > 0 {
		t.Errorf("processes naming %s left: %v", s.dataDir, left)
	}
}
