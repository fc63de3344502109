package agent

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// containerSpec resolves a container of image res into the process to
// run: environment, expanded command, and the pod's /etc files.
func (w *podWorker) containerSpec(ctx context.Context, pod *corev1.Pod, sb runtime.Sandbox, c *corev1.Container, res images.Resolved, attempt int) (runtime.ContainerSpec, error) {
	if err := verifyRunAsNonRoot(pod, c, res.User); err != nil {
		return runtime.ContainerSpec{}, fmt.Errorf("%w: %v", errConfig, err)
	}
	if err := w.leaseImage(pod, c, res); err != nil {
		return runtime.ContainerSpec{}, err
	}
	withIP := pod.DeepCopy()
	withIP.Status.PodIP, withIP.Status.HostIP = sb.IP.String(), w.a.cfg.NodeIP.String()
	own, err := containerEnv(ctx, w.a, withIP, c, serviceEnv(pod, w.a.allServices()))
	if err != nil {
		return runtime.ContainerSpec{}, fmt.Errorf("%w: %v", errConfig, err)
	}
	if pod.Spec.HostNetwork {
		if err := checkHostPorts(c); err != nil {
			return runtime.ContainerSpec{}, fmt.Errorf("%w: %v", errRunContainer, err)
		}
	}
	env, vals := mergeEnv(res.Env, []string{"HOSTNAME=" + podHostname(pod)}, own)
	mounts, err := w.containerMounts(c, vals)
	if err != nil {
		return runtime.ContainerSpec{}, fmt.Errorf("%w: %v", errConfig, err)
	}
	argv := make([]string, len(res.Argv))
	for i, a := range res.Argv {
		argv[i] = Expand(a, vals)
	}
	var self string
	if res.Self {
		self = w.a.cfg.Self
	}
	return runtime.ContainerSpec{
		Pod: pod, Name: c.Name, Attempt: attempt, Layers: res.Layers, ImageUser: res.User, ImageID: runtimeImageID(res, c.Image), Self: self,
		Argv: argv, Env: env, Dir: orString(c.WorkingDir, orString(res.WorkingDir, "/")),
		Hostname: podHostname(pod), Hosts: hostsFile(pod, sb.IP.String(), w.a.cfg.ClusterDomain),
		ResolvConf: orString(resolvConf(pod, dnsSettings{Servers: w.a.cfg.ClusterDNS, Domain: w.a.cfg.ClusterDomain}), nodeResolvConf()),
		Stdin:      c.Stdin, StdinOnce: c.StdinOnce, TTY: c.TTY, Mounts: mounts,
	}, nil
}

// nodeResolvConf is the node's /etc/resolv.conf, which pods of dnsPolicy
// Default (the coredns pods) get as the kubelet gives it; "" when the
// node has none.
func nodeResolvConf() string {
	data, _ := os.ReadFile("/etc/resolv.conf")
	return string(data)
}

// mergeEnv joins KEY=value lists, later ones overriding earlier ones and
// keeping the first position of each key.
func mergeEnv(lists ...[]string) ([]string, map[string]string) {
	vals := map[string]string{}
	var order []string
	for _, l := range lists {
		for _, kv := range l {
			k, v, _ := strings.Cut(kv, "=")
			if _, ok := vals[k]; !ok {
				order = append(order, k)
			}
			vals[k] = v
		}
	}
	out := make([]string, 0, len(order))
	for _, k := range order {
		out = append(out, k+"="+vals[k])
	}
	return out, vals
}

// checkHostPorts fails when a port a hostNetwork container declares is
// taken on the node already.
func checkHostPorts(c *corev1.Container) error {
	for _, p := range c.Ports {
		port := p.HostPort
		if port == 0 {
			port = p.ContainerPort
		}
		addr := ":" + strconv.Itoa(int(port))
		if p.Protocol == corev1.ProtocolUDP {
			pc, err := net.ListenPacket("udp", addr)
			if err != nil {
				return fmt.Errorf("hostNetwork port %d/UDP is already in use on the node: %v", port, err)
			}
			pc.Close()
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("hostNetwork port %d/TCP is already in use on the node: %v", port, err)
		}
		ln.Close()
	}
	return nil
}

// ConfigMap reads a ConfigMap for env vars and volumes.
func (a *Agent) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return a.cfg.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

// Secret reads a Secret for env vars and volumes.
func (a *Agent) Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return a.cfg.Client.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

// PersistentVolumeClaim reads a claim for a volume.
func (a *Agent) PersistentVolumeClaim(ctx context.Context, namespace, name string) (*corev1.PersistentVolumeClaim, error) {
	return a.cfg.Client.CoreV1().PersistentVolumeClaims(namespace).Get(ctx, name, metav1.GetOptions{})
}

// PersistentVolume reads a claim's volume.
func (a *Agent) PersistentVolume(ctx context.Context, name string) (*corev1.PersistentVolume, error) {
	return a.cfg.Client.CoreV1().PersistentVolumes().Get(ctx, name, metav1.GetOptions{})
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ImageLeases holds imported images while containers use them.
type ImageLeases interface {
	// Lease records that holder uses the image ref; Release ends it.
	Lease(holder, ref string) error
	Release(holder string) error
	// Holders lists the holders of leases, for the reconciliation after
	// a restart.
	Holders() ([]string, error)
}

// leaseHolder names a container for image leases.
func leaseHolder(pod *corev1.Pod, c string) string { return string(pod.UID) + "_" + c }

// leaseImage keeps an imported image while the container may run it.
func (w *podWorker) leaseImage(pod *corev1.Pod, c *corev1.Container, res images.Resolved) error {
	if w.a.cfg.Leases == nil || res.Image != "" {
		return nil
	}
	if err := w.a.cfg.Leases.Lease(leaseHolder(pod, c.Name), c.Image); err != nil {
		return fmt.Errorf("%w: %q: %v", images.ErrNotPresent, c.Image, err)
	}
	return nil
}

// releaseImages ends the pod's containers' image leases once its
// sandbox is gone.
func (w *podWorker) releaseImages(pod *corev1.Pod) {
	if w.a.cfg.Leases == nil {
		return
	}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if err := w.a.cfg.Leases.Release(leaseHolder(pod, c.Name)); err != nil {
				w.a.log.Warn("release image lease", "pod", podKey(pod), "container", c.Name, "err", err)
			}
		}
	}
}

// runtimeImageID is the image ID a runtime reports: <repo>@<image ID>
// for an imported image, the node's listing of a built-in one.
func runtimeImageID(res images.Resolved, ref string) string {
	if res.Image != "" {
		return res.RepoDigest
	}
	if res.ID == "" {
		return ""
	}
	name, _, _ := strings.Cut(ref, "@")
	if i := strings.LastIndexByte(name, ':'); i > strings.LastIndexByte(name, '/') {
		name = name[:i]
	}
	return name + "@" + res.ID
}

// verifyRunAsNonRoot refuses to start a container with runAsNonRoot that
// would run as root, with kubelet's messages.
func verifyRunAsNonRoot(pod *corev1.Pod, c *corev1.Container, imageUser string) error {
	var nonRoot *bool
	var uid *int64
	if psc := pod.Spec.SecurityContext; psc != nil {
		nonRoot, uid = psc.RunAsNonRoot, psc.RunAsUser
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.RunAsNonRoot != nil {
			nonRoot = sc.RunAsNonRoot
		}
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
	}
	if nonRoot == nil || !*nonRoot {
		return nil
	}
	who := fmt.Sprintf("(pod: %q, container: %s)", fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID), c.Name)
	if uid != nil {
		if *uid == 0 {
			return fmt.Errorf("container's runAsUser breaks non-root policy %s", who)
		}
		return nil
	}
	user, _, _ := strings.Cut(imageUser, ":")
	if user == "" {
		return fmt.Errorf("container has runAsNonRoot and image will run as root %s", who)
	}
	n, err := strconv.ParseInt(user, 10, 64)
	if err != nil {
		return fmt.Errorf("container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root %s", user, who)
	}
	if n == 0 {
		return fmt.Errorf("container has runAsNonRoot and image will run as root %s", who)
	}
	return nil
}
