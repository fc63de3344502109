package netns

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Names derives the names of everything one cluster creates on a machine
// from the cluster's name: namespaces are "sp-<cluster>-<what>".
type Names struct {
	Cluster string
}

// Prefix is what every namespace of the cluster starts with.
func (n Names) Prefix() string { return "sp-" + n.Cluster + "-" }

// Node is the name of the namespace of a sandboxed node.
func (n Names) Node(node string) string { return n.Prefix() + "node-" + node }

// Pod is the name of a pod's namespace: readable, and unique through the
// pod's UID.
func (n Names) Pod(namespace, name, uid string) string {
	s := n.Prefix() + "pod-" + namespace + "-" + name
	if len(s) > 200 {
		s = s[:200]
	}
	return s + "-" + shortHash(uid)
}

// HostVeth is the node-side name of a pod's veth pair (at most 15 bytes,
// as the kernel requires). Names are unique within the node's namespace.
func HostVeth(uid string) string { return "veth" + shortHash(uid) }

// BridgeName is the node bridge's name inside the node's namespace.
const BridgeName = "spbr0"

// PodInterface is the pod side of the veth pair.
const PodInterface = "eth0"

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

// ValidCluster says whether a cluster name is usable in names: lowercase
// letters, digits and dashes, at most 32 bytes.
func ValidCluster(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}
