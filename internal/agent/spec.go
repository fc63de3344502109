package agent

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/agent/runtime"
)

// containerSpec resolves a container into the process to run: image,
// environment, expanded command, and the pod's /etc files.
func (w *podWorker) containerSpec(ctx context.Context, pod *corev1.Pod, sb runtime.Sandbox, c *corev1.Container, attempt int) (runtime.ContainerSpec, error) {
	res, err := w.a.cfg.Images.Resolve(c)
	if err != nil {
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
	argv := make([]string, len(res.Argv))
	for i, a := range res.Argv {
		argv[i] = Expand(a, vals)
	}
	return runtime.ContainerSpec{
		Pod: pod, Name: c.Name, Attempt: attempt, Argv: argv, Env: env, Dir: orString(c.WorkingDir, "/"),
		Hostname: podHostname(pod), Hosts: hostsFile(pod, sb.IP.String(), w.a.cfg.ClusterDomain),
		ResolvConf: resolvConf(pod, dnsSettings{Servers: w.a.cfg.ClusterDNS, Domain: w.a.cfg.ClusterDomain}),
		Stdin:      c.Stdin, StdinOnce: c.StdinOnce, TTY: c.TTY,
	}, nil
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

// ConfigMap reads a ConfigMap for env vars.
func (a *Agent) ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error) {
	return a.cfg.Client.CoreV1().ConfigMaps(namespace).Get(ctx, name, metav1.GetOptions{})
}

func orString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
