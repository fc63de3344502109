package podnet

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/netns"
)

// The VXLAN overlay follows flannel's vxlan backend: one device per node,
// VNI 1, the kernel's port 8472, the device's address the node's pod
// CIDR's network address, and the annotations flannel's kube subnet
// manager publishes on each Node (its names, so flannel nodes and ours
// read each other).
const (
	VNI    = 1
	Port   = 8472
	Device = "svcplane.1"

	annotationPrefix        = "flannel.alpha.coreos.com/"
	BackendTypeAnnotation   = annotationPrefix + "backend-type"
	BackendDataAnnotation   = annotationPrefix + "backend-data"
	PublicIPAnnotation      = annotationPrefix + "public-ip"
	SubnetManagerAnnotation = annotationPrefix + "kube-subnet-manager"
	BackendVXLAN            = "vxlan"
)

// backendData is the JSON of the backend-data annotation.
type backendData struct {
	VNI     int    `json:"VNI"`
	VtepMAC string `json:"VtepMAC"`
}

// VTEPAnnotations are the annotations a node with VXLAN device MAC mac on
// underlay address public publishes.
func VTEPAnnotations(mac net.HardwareAddr, public netip.Addr) map[string]string {
	data, _ := json.Marshal(backendData{VNI: VNI, VtepMAC: mac.String()})
	return map[string]string{
		BackendTypeAnnotation:   BackendVXLAN,
		BackendDataAnnotation:   string(data),
		PublicIPAnnotation:      public.String(),
		SubnetManagerAnnotation: "true",
	}
}

// VTEPMAC is the VXLAN device MAC node n published (nil if none).
func VTEPMAC(n *corev1.Node) net.HardwareAddr {
	var d backendData
	if err := json.Unmarshal([]byte(n.Annotations[BackendDataAnnotation]), &d); err != nil || d.VNI != VNI {
		return nil
	}
	mac, err := net.ParseMAC(d.VtepMAC)
	if err != nil {
		return nil
	}
	return mac
}

// OverlayPeer is how node n is reached over VXLAN, from its first IPv4
// pod CIDR and its annotations; ok is false for a node that publishes
// no VXLAN endpoint (another backend, another VNI, or not yet).
func OverlayPeer(n *corev1.Node) (netns.OverlayPeer, bool, error) {
	if n.Annotations[BackendTypeAnnotation] != BackendVXLAN {
		return netns.OverlayPeer{}, false, nil
	}
	cidrs := PodCIDRs(n)
	mac := VTEPMAC(n)
	remote, err := netip.ParseAddr(n.Annotations[PublicIPAnnotation])
	if len(cidrs) == 0 || mac == nil || err != nil || !remote.Is4() {
		return netns.OverlayPeer{}, false, fmt.Errorf("node %s: vxlan annotations without a pod CIDR, %s or %s", n.Name, BackendDataAnnotation, PublicIPAnnotation)
	}
	return netns.OverlayPeer{CIDR: cidrs[0], VTEP: cidrs[0].Addr(), MAC: mac, Remote: remote}, true, nil
}

// Plan is what one node keeps to reach the others: host-gw routes to
// the nodes on its own segment and to those that publish no VXLAN
// endpoint, overlay peers for the rest.
type Plan struct {
	HostGW  []netns.PodRoute
	Overlay []netns.OverlayPeer
	// Skipped are the nodes left out, with the reason.
	Skipped []error
}

// PlanFor is node self's plan. local are the nodes reached directly
// (host-gw) whatever they publish (up's nodes on one fabric). Without
// hostGW, only the overlay is used: nodes that publish no VXLAN endpoint
// are not reached (a machine that joined, which may share no segment
// with them).
func PlanFor(self string, local []string, hostGW bool, nodes []*corev1.Node) Plan {
	var p Plan
	for _, n := range nodes {
		if n.Name == self {
			continue
		}
		peer, ok, err := OverlayPeer(n)
		if err != nil {
			p.Skipped = append(p.Skipped, err)
		}
		switch {
		case ok && !slices.Contains(local, n.Name):
			p.Overlay = append(p.Overlay, peer)
		case hostGW:
			p.HostGW = append(p.HostGW, HostGWRoutes(self, []*corev1.Node{n})...)
		}
	}
	slices.SortFunc(p.HostGW, func(a, b netns.PodRoute) int { return a.CIDR.Addr().Compare(b.CIDR.Addr()) })
	slices.SortFunc(p.Overlay, func(a, b netns.OverlayPeer) int { return a.CIDR.Addr().Compare(b.CIDR.Addr()) })
	return p
}
