package app

import (
	"context"

	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/podnet"
)

// hostNetns is the network namespace of this process.
const hostNetns = "/proc/self/ns/net"

// startHostOverlay keeps the VXLAN overlay of up's node when it runs in
// the machine's own namespace (no sandbox), so machines that join reach
// its pods and it theirs. A node without an IPv4 address to use gets no
// overlay, with a log line.
func startHostOverlay(ctx context.Context, s *APIServer, cfg UpConfig) error {
	log := cfg.Logger.With("component", "podnet")
	ip, err := resolveNodeIP(cfg.Agent.NodeIP)
	if err != nil || !ip.Is4() {
		log.Warn("no VXLAN overlay: no IPv4 node address", "err", err)
		return nil
	}
	rc, err := ComponentRESTConfig(s, "system:svcplane-fabric")
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	node := podnet.LocalNode{Name: upNodeName(cfg), IP: ip, Netns: hostNetns}
	go podnet.KeepOverlay(ctx, podnet.OverlayConfig{Client: client, Nodes: []podnet.LocalNode{node}, Logger: log})
	return nil
}
