package nftables

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/netns"
	"github.com/svcplane/svcplane/internal/proxy"
	"github.com/svcplane/svcplane/internal/proxy/proxytest"
	"github.com/svcplane/svcplane/internal/proxy/tracer"
)

// inTestNetns runs fn inside a throwaway network namespace, or skips.
func inTestNetns(t *testing.T, fn func() error) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("no nft")
	}
	b := make([]byte, 4)
	rand.Read(b)
	name := "svcplane-nft-" + hex.EncodeToString(b)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	if err := netns.Do("/run/netns/"+name, fn); err != nil {
		t.Fatal(err)
	}
}

// kernelBackend is a Backend on the real nft in the current namespace.
func kernelBackend(fam corev1.IPFamily) (*Backend, error) {
	return New(Config{Family: fam, Logger: slog.New(slog.DiscardHandler)})
}

func TestKernelOverall(t *testing.T) {
	ctx := context.Background()
	var rules, after string
	inTestNetns(t, func() error {
		b, err := kernelBackend(corev1.IPv4Protocol)
		if err != nil {
			return err
		}
		st := proxytest.OverallState()
		if err := b.Sync(ctx, st); err != nil {
			return err
		}
		if rules, err = b.Rules(ctx); err != nil {
			return err
		}
		// A partial sync that drops an endpoint of ns4 and the service ns1.
		st2 := proxytest.State(proxytest.OverallServices()[1:], proxytest.OverallSlices()[1:3])
		st2.Full = false
		st2.Changed = map[proxy.ServicePortName]bool{}
		for _, s := range st.Services {
			st2.Changed[s.Name] = true
		}
		if err := b.Sync(ctx, st2); err != nil {
			return err
		}
		if after, err = b.Rules(ctx); err != nil {
			return err
		}
		b.checkEvery = 0
		if b.NeedsFullSync(ctx) {
			t.Error("table reported missing")
		}
		if out, err := exec.Command("nft", "delete", "table", "ip", TableName).CombinedOutput(); err != nil {
			return fmt.Errorf("nft delete table: %v: %s", err, out)
		}
		if !b.NeedsFullSync(ctx) {
			t.Error("a deleted table is not noticed")
		}
		st2.Full = true // what the proxier asks for when NeedsFullSync says so
		if err := b.Sync(ctx, st2); err != nil {
			return err
		}
		if err := b.Cleanup(ctx); err != nil {
			return err
		}
		left, _ := b.Rules(ctx)
		if strings.TrimSpace(left) != "" {
			t.Errorf("left after cleanup:\n%s", left)
		}
		return nil
	})
	// The listing of the elements loaded through netlink is the one of
	// the same elements loaded by nft (the file the kernel tracer reads).
	golden(t, "overall.kernel.txt", rules)
	for _, want := range []string{
		"172.30.0.41 . tcp . 80 : goto cluster-ip",
		"172.30.0.44 . 80 . 1 : 10.180.0.5 . 80",
		"172.30.0.46 . tcp . 80 : goto reject-chain",
	} {
		if !strings.Contains(rules, want) {
			t.Errorf("kernel rules lack %q:\n%s", want, rules)
		}
	}
	for _, gone := range []string{"172.30.0.41 . tcp . 80", "10.180.0.5 . 80"} {
		if strings.Contains(after, gone) {
			t.Errorf("partial sync left %q:\n%s", gone, after)
		}
	}
	// The shared packet cases pass on the rules the kernel lists.
	tr, err := tracer.NewNFTables(rules, nodeIPs())
	if err != nil {
		t.Fatal(err)
	}
	tracer.Run(t, tr, proxytest.OverallCases())
}

// TestKernelPartialSyncs applies the steps of TestPartialSyncsEqualFullSyncs
// to the kernel: each partial transaction refers to maps and chains that
// only the kernel holds, which nft must read back.
func TestKernelPartialSyncs(t *testing.T) {
	ctx := context.Background()
	inTestNetns(t, func() error {
		b, err := kernelBackend(corev1.IPv4Protocol)
		if err != nil {
			return err
		}
		names, states := stepStates()
		for i, st := range states {
			if err := b.Sync(ctx, st); err != nil {
				t.Errorf("%s: %v", names[i], err)
			}
		}
		return b.Cleanup(ctx)
	})
}

// TestKernelIPv6 loads an IPv6 Service: its elements go through netlink
// with 16-byte addresses.
func TestKernelIPv6(t *testing.T) {
	ctx := context.Background()
	var rules string
	inTestNetns(t, func() error {
		b, err := kernelBackend(corev1.IPv6Protocol)
		if err != nil {
			return err
		}
		if err := b.Sync(ctx, ipv6State()); err != nil {
			return err
		}
		if rules, err = b.Rules(ctx); err != nil {
			return err
		}
		return b.Cleanup(ctx)
	})
	for _, want := range []string{
		"fd00:30::1 . tcp . 80 : goto cluster-ip",
		"fd00:1::2 . 30080 . 0 : fd00:10::5 . 8080",
		"fd00:10::5 . fd00:10::5",
	} {
		if !strings.Contains(rules, want) {
			t.Errorf("kernel rules lack %q:\n%s", want, rules)
		}
	}
}

// TestKernelEndpointReplaced: the partial sync of a replaced endpoint is
// a netlink batch of element deletes and adds.
func TestKernelEndpointReplaced(t *testing.T) {
	ctx := context.Background()
	var rules string
	inTestNetns(t, func() error {
		b, err := kernelBackend(corev1.IPv4Protocol)
		if err != nil {
			return err
		}
		first, next := endpointReplaced()
		for _, st := range []*proxy.State{first, next} {
			if err := b.Sync(ctx, st); err != nil {
				return err
			}
		}
		if rules, err = b.Rules(ctx); err != nil {
			return err
		}
		return b.Cleanup(ctx)
	})
	for _, want := range []string{"172.30.0.44 . 80 . 0 : 10.180.0.5 . 80", "172.30.0.44 . 80 . 1 : 10.180.0.6 . 80", "192.168.99.33 . 80 . 1 : 10.180.0.6 . 80"} {
		if !strings.Contains(rules, want) {
			t.Errorf("kernel rules lack %q:\n%s", want, rules)
		}
	}
	if strings.Contains(rules, "10.180.0.4 ") {
		t.Errorf("10.180.0.4 left:\n%s", rules)
	}
}

// TestKernelBatchError: a netlink batch the kernel refuses (it deletes an
// element someone else deleted) fails as a whole, and the next sync is
// full and succeeds.
func TestKernelBatchError(t *testing.T) {
	ctx := context.Background()
	inTestNetns(t, func() error {
		b, err := kernelBackend(corev1.IPv4Protocol)
		if err != nil {
			return err
		}
		first, next := endpointReplaced()
		if err := b.Sync(ctx, first); err != nil {
			return err
		}
		if out, err := exec.Command("nft", "delete", "element", "ip", TableName, "endpoints-cluster-tcp", "{ 172.30.0.44 . 80 . 1 }").CombinedOutput(); err != nil {
			return fmt.Errorf("nft delete element: %v: %s", err, out)
		}
		if err := b.Sync(ctx, next); err == nil {
			t.Error("a batch deleting a missing element succeeded")
		}
		rules, err := b.Rules(ctx)
		if err != nil {
			return err
		}
		if !strings.Contains(rules, "172.30.0.44 . 80 . 0 : 10.180.0.4 . 80") {
			t.Errorf("the failed batch changed the kernel:\n%s", rules)
		}
		if err := b.Sync(ctx, next); err != nil {
			t.Errorf("the sync after a failure: %v", err)
		}
		if rules, err = b.Rules(ctx); err != nil {
			return err
		}
		if !strings.Contains(rules, "172.30.0.44 . 80 . 1 : 10.180.0.6 . 80") {
			t.Errorf("the full sync after a failure did not load:\n%s", rules)
		}
		return b.Cleanup(ctx)
	})
}
