package agent

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
)

// KubeletVersion is the version the agent reports as the node's kubelet.
const KubeletVersion = "v1.32.0-svcplane"

// nodeInfo is what the node object is built from.
type nodeInfo struct {
	Name        string
	IP          netip.Addr
	Port        int32
	MaxPods     int
	CPUs        int
	MemoryBytes int64
	Runtime     string
	Labels      map[string]string
}

// nodeLabels are the well-known labels of the node plus the configured
// ones.
func nodeLabels(info nodeInfo) map[string]string {
	l := map[string]string{
		corev1.LabelHostname:      info.Name,
		corev1.LabelOSStable:      goruntime.GOOS,
		corev1.LabelArchStable:    goruntime.GOARCH,
		"beta.kubernetes.io/os":   goruntime.GOOS,
		"beta.kubernetes.io/arch": goruntime.GOARCH,
	}
	for k, v := range info.Labels {
		l[k] = v
	}
	return l
}

// desiredStatus is the node's status as the agent reports it, keeping the
// transition times of conditions that did not change.
func desiredStatus(info nodeInfo, old corev1.NodeStatus, now time.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              *resource.NewQuantity(int64(info.CPUs), resource.DecimalSI),
		corev1.ResourceMemory:           *resource.NewQuantity(info.MemoryBytes, resource.BinarySI),
		corev1.ResourcePods:             *resource.NewQuantity(int64(info.MaxPods), resource.DecimalSI),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	st := corev1.NodeStatus{
		Capacity: capacity, Allocatable: capacity.DeepCopy(),
		Phase: corev1.NodeRunning,
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: info.IP.String()},
			{Type: corev1.NodeHostName, Address: info.Name},
		},
		DaemonEndpoints: corev1.NodeDaemonEndpoints{KubeletEndpoint: corev1.DaemonEndpoint{Port: info.Port}},
		NodeInfo: corev1.NodeSystemInfo{
			MachineID: machineID(), KernelVersion: kernelVersion(), OSImage: "svcplane",
			ContainerRuntimeVersion: info.Runtime, KubeletVersion: KubeletVersion, KubeProxyVersion: KubeletVersion,
			OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
		},
	}
	st.Conditions = nodeConditions(old.Conditions, now)
	return st
}

// nodeConditions reports the node Ready with no pressure.
func nodeConditions(old []corev1.NodeCondition, now time.Time) []corev1.NodeCondition {
	want := []corev1.NodeCondition{
		{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
		{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
		{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
		{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status"},
	}
	for i := range want {
		want[i].LastHeartbeatTime = metav1.NewTime(now)
		want[i].LastTransitionTime = metav1.NewTime(now)
		for _, o := range old {
			if o.Type == want[i].Type && o.Status == want[i].Status {
				want[i].LastTransitionTime = o.LastTransitionTime
			}
		}
	}
	return want
}

// registerNode creates the node or brings an existing one up to date.
func (a *Agent) registerNode(ctx context.Context) (*corev1.Node, error) {
	nodes := a.cfg.Client.CoreV1().Nodes()
	node, err := nodes.Get(ctx, a.cfg.NodeName, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		node = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: a.cfg.NodeName, Labels: nodeLabels(a.info)}}
		if a.cfg.PodCIDR.IsValid() {
			node.Spec.PodCIDR, node.Spec.PodCIDRs = a.cfg.PodCIDR.String(), []string{a.cfg.PodCIDR.String()}
		}
		if node, err = nodes.Create(ctx, node, metav1.CreateOptions{}); err != nil {
			return nil, fmt.Errorf("create node: %w", err)
		}
		a.log.Info("registered node", "node", a.cfg.NodeName)
	} else if err != nil {
		return nil, fmt.Errorf("get node: %w", err)
	}
	return a.updateNodeStatusRetrying(ctx, node)
}

// updateNodeStatusRetrying writes the status, reading the node again when
// someone else (node IPAM, the lifecycle controller) wrote it meanwhile.
func (a *Agent) updateNodeStatusRetrying(ctx context.Context, node *corev1.Node) (*corev1.Node, error) {
	var out *corev1.Node
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		var err error
		if out, err = a.updateNodeStatus(ctx, node); apierrors.IsConflict(err) {
			if fresh, getErr := a.cfg.Client.CoreV1().Nodes().Get(ctx, a.cfg.NodeName, metav1.GetOptions{}); getErr == nil {
				node = fresh
			}
		}
		return err
	})
	return out, err
}

// updateNodeStatus writes the status when it changed or when the last
// heartbeat is older than the report interval.
func (a *Agent) updateNodeStatus(ctx context.Context, node *corev1.Node) (*corev1.Node, error) {
	node = node.DeepCopy()
	want := desiredStatus(a.info, node.Status, a.now())
	if a.cfg.NodeImages != nil {
		want.Images = a.cfg.NodeImages()
	}
	if statusFresh(node.Status, want, a.now()) {
		return node, nil
	}
	node.Status = want
	out, err := a.cfg.Client.CoreV1().Nodes().UpdateStatus(ctx, node, metav1.UpdateOptions{})
	if err != nil {
		return nil, fmt.Errorf("update node status: %w", err)
	}
	return out, nil
}

// nodeStatusReport is how often an unchanged node status is written.
const nodeStatusReport = time.Minute

func statusFresh(old, want corev1.NodeStatus, now time.Time) bool {
	for _, c := range old.Conditions {
		if c.Type == corev1.NodeReady && now.Sub(c.LastHeartbeatTime.Time) > nodeStatusReport {
			return false
		}
	}
	o, w := old.DeepCopy(), want.DeepCopy()
	for _, s := range []*corev1.NodeStatus{o, w} {
		for i := range s.Conditions {
			s.Conditions[i].LastHeartbeatTime = metav1.Time{}
		}
	}
	return len(old.Conditions) > 0 && equality.Semantic.DeepEqual(o, w)
}

func machineID() string {
	b, _ := os.ReadFile("/etc/machine-id")
	return strings.TrimSpace(string(b))
}

func kernelVersion() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return strings.TrimSpace(string(b))
}

// MemoryBytes reads MemTotal from /proc/meminfo.
func MemoryBytes() int64 {
	b, _ := os.ReadFile("/proc/meminfo")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
