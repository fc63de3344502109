package app

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ipvsUnavailableReason is the reason of the Node Event recorded when
// ipvs mode is asked for where the kernel lacks it.
const ipvsUnavailableReason = "IPVSUnavailable"

// ipvsFallback says, in one log line and a Warning Event on the Node,
// that ipvs mode cannot run here and why, before the proxy runs iptables
// mode instead (as kube-proxy did before 1.26 and the tutorials
// describe).
func (n *proxyNode) ipvsFallback(err error) {
	n.log.Error("ipvs proxy mode unavailable, running iptables mode instead", "missing", err.Error())
	ref := &corev1.ObjectReference{Kind: "Node", Name: n.name, UID: types.UID(n.name)}
	n.events.Eventf(ref, corev1.EventTypeWarning, ipvsUnavailableReason,
		"ipvs proxy mode unavailable (%v); running iptables mode", err)
}
