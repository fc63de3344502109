package agent

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// podCIDR returns the node's pod CIDR: the configured one (written to the
// node if it has none), else the one the node IPAM controller assigns,
// else the fallback once PodCIDRWait has passed.
func (a *Agent) podCIDR(ctx context.Context) (netip.Prefix, error) {
	if a.cfg.PodCIDR.IsValid() {
		return a.cfg.PodCIDR, a.claimPodCIDR(ctx, a.cfg.PodCIDR)
	}
	deadline := a.now().Add(a.cfg.PodCIDRWait)
	logged := false
	// The node IPAM controller assigns a CIDR within milliseconds of the
	// Node's registration: look again soon, then less often.
	wait := 25 * time.Millisecond
	for {
		node, err := a.cfg.Client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
		if err == nil && node.Spec.PodCIDR != "" {
			return netip.ParsePrefix(node.Spec.PodCIDR)
		}
		if a.cfg.PodCIDRFallback.IsValid() && a.now().After(deadline) {
			a.log.Warn("no pod CIDR assigned to the node; using the fallback", "cidr", a.cfg.PodCIDRFallback)
			return a.cfg.PodCIDRFallback, a.claimPodCIDR(ctx, a.cfg.PodCIDRFallback)
		}
		if !logged {
			a.log.Info("waiting for the node's pod CIDR (spec.podCIDR)")
			logged = true
		}
		select {
		case <-ctx.Done():
			return netip.Prefix{}, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 500*time.Millisecond)
	}
}

// claimPodCIDR sets spec.podCIDR on the node unless it has one; a node
// that has another one keeps it, and the agent says so.
func (a *Agent) claimPodCIDR(ctx context.Context, cidr netip.Prefix) error {
	nodes := a.cfg.Client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get node: %w", err)
	}
	if node.Spec.PodCIDR != "" {
		if node.Spec.PodCIDR != cidr.String() {
			a.log.Warn("node has another pod CIDR than configured; using the configured one", "node", node.Spec.PodCIDR, "configured", cidr)
		}
		return nil
	}
	patch := fmt.Sprintf(`{"spec":{"podCIDR":%q,"podCIDRs":[%q]}}`, cidr, cidr)
	if _, err := nodes.Patch(ctx, a.cfg.NodeName, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("set node pod CIDR: %w", err)
	}
	return nil
}
