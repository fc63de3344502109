package printers

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const (
	// nodeRolePrefix labels a node with a role: node-role.kubernetes.io/<role>.
	nodeRolePrefix = "node-role.kubernetes.io/"
	// nodeRoleLabel is the older kubernetes.io/role=<role> label.
	nodeRoleLabel = "kubernetes.io/role"
)

func nodePrinter() Printer {
	info, status := corev1.NodeSystemInfo{}.SwaggerDoc(), corev1.NodeStatus{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Status", "string", "The status of the node"),
			column("Roles", "string", "The roles of the node"),
			ageColumn(),
			column("Version", "string", info["kubeletVersion"]),
			wideColumn("Internal-IP", "string", status["addresses"]),
			wideColumn("External-IP", "string", status["addresses"]),
			wideColumn("OS-Image", "string", info["osImage"]),
			wideColumn("Kernel-Version", "string", info["kernelVersion"]),
			wideColumn("Container-Runtime", "string", info["containerRuntimeVersion"]),
		},
		Row: typed(nodeRow),
	}
}

func nodeRow(n *corev1.Node, now time.Time) []interface{} {
	info := n.Status.NodeInfo
	return []interface{}{
		n.Name,
		nodeStatus(n),
		orDefault(strings.Join(nodeRoles(n.Labels), ","), "<none>"),
		age(n.CreationTimestamp, now),
		info.KubeletVersion,
		nodeAddress(n, corev1.NodeInternalIP),
		nodeAddress(n, corev1.NodeExternalIP),
		orDefault(info.OSImage, "<unknown>"),
		orDefault(info.KernelVersion, "<unknown>"),
		orDefault(info.ContainerRuntimeVersion, "<unknown>"),
	}
}

// nodeStatus is Ready, NotReady or Unknown (no Ready condition), with
// ",SchedulingDisabled" for a cordoned node.
func nodeStatus(n *corev1.Node) string {
	status := "Unknown"
	// Upstream keeps the last Ready condition if there are several.
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		status = "Not" + string(corev1.NodeReady)
		if c.Status == corev1.ConditionTrue {
			status = string(corev1.NodeReady)
		}
	}
	if n.Spec.Unschedulable {
		status += ",SchedulingDisabled"
	}
	return status
}

// nodeRoles are the roles named by node-role.kubernetes.io/<role> labels and
// the kubernetes.io/role label, sorted and without duplicates.
func nodeRoles(nodeLabels map[string]string) []string {
	set := map[string]bool{}
	for k, v := range nodeLabels {
		switch {
		case strings.HasPrefix(k, nodeRolePrefix):
			if role := strings.TrimPrefix(k, nodeRolePrefix); role != "" {
				set[role] = true
			}
		case k == nodeRoleLabel && v != "":
			set[v] = true
		}
	}
	roles := make([]string, 0, len(set))
	for r := range set {
		roles = append(roles, r)
	}
	sort.Strings(roles)
	return roles
}

// nodeAddress is the node's first address of the type, or <none>.
func nodeAddress(n *corev1.Node, t corev1.NodeAddressType) string {
	for _, a := range n.Status.Addresses {
		if a.Type == t {
			return a.Address
		}
	}
	return "<none>"
}
