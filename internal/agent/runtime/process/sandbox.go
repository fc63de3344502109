package process

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

// EnsureSandbox gives the pod a network namespace on the bridge and an IP,
// unless it has them already.
func (r *Runtime) EnsureSandbox(_ context.Context, pod *corev1.Pod) (runtime.Sandbox, error) {
	if sb, ok := r.sandbox(pod.UID); ok {
		return sb, nil
	}
	rec := podRecord{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, HostNetwork: pod.Spec.HostNetwork, IP: r.cfg.NodeIP.String()}
	if !pod.Spec.HostNetwork {
		if err := r.createNetwork(&rec); err != nil {
			return runtime.Sandbox{}, err
		}
	}
	if err := os.MkdirAll(r.files.podDir(pod.UID), 0o755); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("pod dir: %w", err)
	}
	if err := writeJSON(r.files.podFile(pod.UID), rec); err != nil {
		return runtime.Sandbox{}, err
	}
	r.mu.Lock()
	r.pods[pod.UID] = &podEntry{rec: rec, containers: map[string]*instance{}}
	r.mu.Unlock()
	return r.mustSandbox(pod.UID), nil
}

func (r *Runtime) sandbox(uid types.UID) (runtime.Sandbox, bool) {
	p, ok := r.Pod(uid)
	return p.Sandbox, ok
}

func (r *Runtime) mustSandbox(uid types.UID) runtime.Sandbox {
	sb, _ := r.sandbox(uid)
	return sb
}

// createNetwork allocates the IP, creates the namespace and the veth pair;
// on failure it undoes what it did.
func (r *Runtime) createNetwork(rec *podRecord) (err error) {
	ip, err := r.ipam.Allocate(string(rec.UID))
	if err != nil {
		return err
	}
	rec.IP = ip.String()
	rec.NetnsName = r.cfg.Names.Pod(rec.Namespace, rec.Name, string(rec.UID))
	rec.HostVeth = netns.HostVeth(string(rec.UID))
	defer func() {
		if err != nil {
			r.removeNetwork(*rec)
		}
	}()
	path, err := r.cfg.Namespaces.Create(rec.NetnsName)
	if err != nil {
		return err
	}
	rec.NetnsPath = path
	gw := r.ipam.Gateway()
	return r.cfg.Network.AttachPod(netns.PodLink{
		NetnsPath: path, HostVeth: rec.HostVeth, Bridge: netns.BridgeName,
		Address: netip.PrefixFrom(ip, gw.Bits()), Gateway: gw.Addr(),
	})
}

// removeNetwork undoes createNetwork; each step tolerates what is gone.
func (r *Runtime) removeNetwork(rec podRecord) error {
	var errs []error
	if rec.HostVeth != "" {
		errs = append(errs, r.cfg.Network.DetachPod(rec.HostVeth))
	}
	if rec.NetnsName != "" {
		errs = append(errs, r.cfg.Namespaces.Delete(rec.NetnsName))
	}
	errs = append(errs, r.ipam.Release(string(rec.UID)))
	return errors.Join(errs...)
}

// RemoveSandbox removes the pod's network and files. Containers still
// running are killed first.
func (r *Runtime) RemoveSandbox(ctx context.Context, uid types.UID) error {
	r.mu.Lock()
	p, ok := r.pods[uid]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	for name := range p.containers {
		if err := r.Stop(ctx, uid, name, 0); err != nil {
			return err
		}
	}
	if err := r.removeNetwork(p.rec); err != nil {
		return fmt.Errorf("remove sandbox of %s/%s: %w", p.rec.Namespace, p.rec.Name, err)
	}
	r.mu.Lock()
	delete(r.pods, uid)
	r.mu.Unlock()
	if err := os.RemoveAll(r.files.podDir(uid)); err != nil {
		return fmt.Errorf("remove pod dir: %w", err)
	}
	return nil
}
