package app

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/svcplane/svcplane/internal/agent"
)

// staticPod is a control-plane component that up runs in its own process
// and shows as a kubeadm static pod: its mirror pod is
// <component>-<node> in kube-system.
type staticPod struct {
	component string
	image     string
	command   []string
}

// staticPods are kubeadm's four control-plane static pods.
func staticPods(cfg UpConfig) []staticPod {
	addr := orString(cfg.APIServer.AdvertiseAddress, "127.0.0.1")
	port := fmt.Sprint(cfg.APIServer.Port)
	data := orString(cfg.APIServer.DataDir, "/var/lib/svcplane")
	return []staticPod{
		{"etcd", "registry.k8s.io/etcd:3.5.16-0", []string{"etcd", "--data-dir=" + data + "/etcd", "--listen-client-urls=https://127.0.0.1:2379"}},
		{"kube-apiserver", "registry.k8s.io/kube-apiserver:v1.32.0", []string{"kube-apiserver",
			"--advertise-address=" + addr, "--secure-port=" + port, "--service-cluster-ip-range=10.96.0.0/12", "--authorization-mode=Node,RBAC"}},
		{"kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.32.0", []string{"kube-controller-manager",
			"--cluster-cidr=" + orString(cfg.Controllers.PodCIDR, "10.244.0.0/16"), "--use-service-account-credentials=true"}},
		{"kube-scheduler", "registry.k8s.io/kube-scheduler:v1.32.0", []string{"kube-scheduler", "--leader-elect=true"}},
	}
}

// mirrorPod is a static pod's mirror as the kubelet creates it: named for
// the node, owned by the Node, with the config annotations.
func mirrorPod(sp staticPod, node *corev1.Node) *corev1.Pod {
	sum := md5.Sum([]byte(node.Name + "/" + sp.component + "/" + sp.image))
	hash := hex.EncodeToString(sum[:])
	yes := true
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name: sp.component + "-" + node.Name, Namespace: "kube-system",
			Labels: map[string]string{"component": sp.component, "tier": "control-plane"},
			Annotations: map[string]string{"kubernetes.io/config.source": "file", "kubernetes.io/config.hash": hash,
				agent.MirrorAnnotation: hash, "kubernetes.io/config.seen": time.Now().UTC().Format(time.RFC3339Nano)},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID, Controller: &yes}},
		},
		Spec: corev1.PodSpec{
			NodeName: node.Name, HostNetwork: true, PriorityClassName: "system-node-critical",
			Tolerations: []corev1.Toleration{{Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute}},
			Containers: []corev1.Container{{Name: sp.component, Image: sp.image, Command: sp.command,
				ImagePullPolicy: corev1.PullIfNotPresent}},
		},
	}
}

// mirrorStatus is a running static pod's status: Ready on the node's
// address since start.
func mirrorStatus(sp staticPod, nodeIP string, start metav1.Time) corev1.PodStatus {
	cond := func(t corev1.PodConditionType) corev1.PodCondition {
		return corev1.PodCondition{Type: t, Status: corev1.ConditionTrue, LastTransitionTime: start}
	}
	yes := true
	return corev1.PodStatus{
		Phase: corev1.PodRunning, HostIP: nodeIP, PodIP: nodeIP, StartTime: &start, QOSClass: corev1.PodQOSBestEffort,
		HostIPs: []corev1.HostIP{{IP: nodeIP}}, PodIPs: []corev1.PodIP{{IP: nodeIP}},
		Conditions: []corev1.PodCondition{cond(corev1.PodReadyToStartContainers), cond(corev1.PodInitialized),
			cond(corev1.PodReady), cond(corev1.ContainersReady), cond(corev1.PodScheduled)},
		ContainerStatuses: []corev1.ContainerStatus{{Name: sp.component, Image: sp.image, ImageID: sp.image,
			ContainerID: "svcplane://" + sp.component, Ready: true, Started: &yes,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: start}}}},
	}
}

// keepMirrorPods creates the control plane's mirror pods once the node is
// registered and creates them again when deleted (as the kubelet does),
// until ctx ends.
func keepMirrorPods(ctx context.Context, client kubernetes.Interface, cfg UpConfig, log *slog.Logger) {
	start := metav1.Now()
	name := upNodeName(cfg)
	for {
		node, err := client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			for _, sp := range staticPods(cfg) {
				if err := ensureMirrorPod(ctx, client, sp, node, start); err != nil && ctx.Err() == nil {
					log.Warn("mirror pod", "component", sp.component, "err", err)
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// ensureMirrorPod creates a missing mirror pod with its status.
func ensureMirrorPod(ctx context.Context, client kubernetes.Interface, sp staticPod, node *corev1.Node, start metav1.Time) error {
	pods := client.CoreV1().Pods("kube-system")
	want := mirrorPod(sp, node)
	cur, err := pods.Get(ctx, want.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		cur, err = pods.Create(ctx, want, metav1.CreateOptions{})
	}
	if err != nil || cur.Status.Phase == corev1.PodRunning {
		return err
	}
	cur.Status = mirrorStatus(sp, nodeInternalIP(node), start)
	_, err = pods.UpdateStatus(ctx, cur, metav1.UpdateOptions{})
	return err
}

func nodeInternalIP(n *corev1.Node) string {
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			return a.Address
		}
	}
	return ""
}
