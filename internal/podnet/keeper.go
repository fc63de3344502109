package podnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/netns"
)

// LocalNode is a node whose network namespace this process programs.
type LocalNode struct {
	Name string
	// IP is the node's address on the underlay (its InternalIP).
	IP netip.Addr
	// Netns is the path of the node's network namespace.
	Netns string
}

// OverlayConfig configures KeepOverlay.
type OverlayConfig struct {
	Client kubernetes.Interface
	Nodes  []LocalNode
	// HostGW also keeps host-gw routes (up's nodes on one fabric: to each
	// other, and to nodes that publish no VXLAN endpoint).
	HostGW bool
	Logger *slog.Logger
}

// KeepOverlay keeps, in every local node's namespace, the VXLAN device
// (once the Node has a pod CIDR), the Node's VTEP annotations, and the
// node's plan (PlanFor), whenever Nodes change; when ctx ends it removes
// the devices, and with them the overlay's routes and entries.
func KeepOverlay(ctx context.Context, cfg OverlayConfig) {
	names := make([]string, len(cfg.Nodes))
	for i, n := range cfg.Nodes {
		names[i] = n.Name
	}
	defer func() {
		for _, n := range cfg.Nodes {
			if err := netns.DeleteLink(n.Netns, Device); err != nil {
				cfg.Logger.Error("VXLAN device not removed", "node", n.Name, "err", err)
			}
		}
	}()
	Watch(ctx, cfg.Client, cfg.Logger, func(nodes []*corev1.Node) error {
		var errs []error
		for _, n := range cfg.Nodes {
			if err := keepNode(ctx, cfg, n, names, nodes); err != nil {
				errs = append(errs, fmt.Errorf("node %s: %w", n.Name, err))
			}
		}
		return errors.Join(errs...)
	})
}

// keepNode programs one local node: its device and annotations, then its
// routes and overlay peers.
func keepNode(ctx context.Context, cfg OverlayConfig, n LocalNode, local []string, nodes []*corev1.Node) error {
	ready, err := ensureVTEP(ctx, cfg.Client, n, findNode(nodes, n.Name))
	if err != nil {
		return err
	}
	plan := PlanFor(n.Name, local, cfg.HostGW, nodes)
	for _, err := range plan.Skipped {
		cfg.Logger.Debug("node not reached over the overlay", "node", n.Name, "err", err)
	}
	if cfg.HostGW {
		if err := netns.SetPodRoutes(n.Netns, plan.HostGW); err != nil {
			return err
		}
	}
	if !ready {
		return nil
	}
	return netns.SetOverlayPeers(n.Netns, Device, plan.Overlay)
}

// ensureVTEP makes the node's VXLAN device (with the MAC its Node
// published, if any) and publishes its MAC and address on the Node;
// ready is false while the Node or its pod CIDR is not there yet.
func ensureVTEP(ctx context.Context, client kubernetes.Interface, n LocalNode, self *corev1.Node) (ready bool, err error) {
	if self == nil || len(PodCIDRs(self)) == 0 {
		return false, nil // not yet: the node IPAM controller gives it one
	}
	cidrs := PodCIDRs(self)
	mac, err := netns.EnsureVXLAN(n.Netns, netns.VXLAN{Name: Device, VNI: VNI, Port: Port, Local: n.IP,
		VTEP: cidrs[0].Addr(), MAC: VTEPMAC(self)})
	if err != nil {
		return false, err
	}
	want := VTEPAnnotations(mac, n.IP)
	if maps.Equal(want, subset(self.Annotations, want)) {
		return true, nil
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": want}})
	if _, err := client.CoreV1().Nodes().Patch(ctx, n.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return false, fmt.Errorf("publish the VTEP on the Node: %w", err)
	}
	return true, nil
}

// subset is m's entries under the keys of want.
func subset(m, want map[string]string) map[string]string {
	out := map[string]string{}
	for k := range want {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

func findNode(nodes []*corev1.Node, name string) *corev1.Node {
	for _, n := range nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}
