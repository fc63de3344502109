// Package podnet carries pod traffic between nodes, the role flannel plays:
// it watches Nodes and keeps, in a node's network namespace, a route to
// every other node's pod CIDR. host-gw routes through the other node's
// InternalIP, which must be on the same L2 segment.
package podnet

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/netns"
)

// HostGWRoutes are node self's routes to the IPv4 pod CIDRs of every other
// Node that has one and an InternalIP, sorted by CIDR.
func HostGWRoutes(self string, nodes []*corev1.Node) []netns.PodRoute {
	var out []netns.PodRoute
	for _, n := range nodes {
		ip, ok := InternalIP(n)
		if n.Name == self || !ok {
			continue
		}
		for _, c := range PodCIDRs(n) {
			out = append(out, netns.PodRoute{CIDR: c, Via: ip})
		}
	}
	slices.SortFunc(out, func(a, b netns.PodRoute) int { return a.CIDR.Addr().Compare(b.CIDR.Addr()) })
	return out
}

// InternalIP is the node's first IPv4 InternalIP address.
func InternalIP(n *corev1.Node) (netip.Addr, bool) {
	for _, a := range n.Status.Addresses {
		if a.Type != corev1.NodeInternalIP {
			continue
		}
		if ip, err := netip.ParseAddr(a.Address); err == nil && ip.Is4() {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// PodCIDRs are the node's IPv4 pod CIDRs.
func PodCIDRs(n *corev1.Node) []netip.Prefix {
	cidrs := n.Spec.PodCIDRs
	if len(cidrs) == 0 && n.Spec.PodCIDR != "" {
		cidrs = []string{n.Spec.PodCIDR}
	}
	var out []netip.Prefix
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	return out
}

// Watch calls apply with every Node, each time Nodes change (at most one
// call pending at a time), until ctx ends.
func Watch(ctx context.Context, client kubernetes.Interface, log *slog.Logger, apply func([]*corev1.Node) error) {
	f := informers.NewSharedInformerFactory(client, 0)
	lister := f.Core().V1().Nodes().Lister()
	inf := f.Core().V1().Nodes().Informer()
	kick := make(chan struct{}, 1)
	poke := func(any) {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
	_, _ = inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: poke, UpdateFunc: func(_, o any) { poke(o) }, DeleteFunc: poke})
	f.Start(ctx.Done())
	defer f.Shutdown()
	for {
		select {
		case <-ctx.Done():
			return
		case <-kick:
		}
		nodes, err := lister.List(everything())
		if err == nil {
			err = apply(nodes)
		}
		if err != nil {
			log.Error("pod routes not set", "err", err)
		}
	}
}

// KeepHostGW keeps the host-gw routes of node self in the namespace at
// path (the process's own: /proc/self/ns/net).
func KeepHostGW(ctx context.Context, client kubernetes.Interface, self, path string, log *slog.Logger) {
	Watch(ctx, client, log, func(nodes []*corev1.Node) error {
		return netns.SetPodRoutes(path, HostGWRoutes(self, nodes))
	})
}

func everything() labels.Selector { return labels.Everything() }
