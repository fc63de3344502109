package process

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	goruntime "runtime"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/hostport"
	"github.com/svcplane/svcplane/internal/agent/runtime"
	"github.com/svcplane/svcplane/internal/netns"
)

// EnsureSandbox gives the pod a network namespace on the bridge and an IP,
// unless it has them already.
func (r *Runtime) EnsureSandbox(ctx context.Context, pod *corev1.Pod) (runtime.Sandbox, error) {
	r.mu.Lock()
	p, ok := r.pods[pod.UID]
	r.mu.Unlock()
	if ok {
		if r.hostPortsNeedSync(p) {
			r.syncHostPorts(ctx)
		}
		if err := r.startPause(p, pod); err != nil {
			return runtime.Sandbox{}, fmt.Errorf("start the pod's pause process: %w", err)
		}
		return r.mustSandbox(pod.UID), nil
	}
	rec := podRecord{Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID, HostNetwork: pod.Spec.HostNetwork,
		IP: r.cfg.NodeIP.String(), QOS: podQOS(pod)}
	if _, err := r.podCgroup(pod); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("pod cgroup: %w", err)
	}
	if !pod.Spec.HostNetwork {
		if err := r.createNetwork(&rec); err != nil {
			return runtime.Sandbox{}, err
		}
		if ip, err := netip.ParseAddr(rec.IP); err == nil {
			rec.HostPorts = hostport.ForPod(pod, ip)
		}
	}
	if err := os.MkdirAll(r.files.podDir(pod.UID), 0o755); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("pod dir: %w", err)
	}
	if !pod.Spec.HostIPC {
		rec.IPCPath = filepath.Join(r.files.podDir(pod.UID), "ipc")
		if err := r.cfg.Pinner.Pin(rec.IPCPath, unix.CLONE_NEWIPC, "ipc"); err != nil {
			_ = r.removeNetwork(rec)
			return runtime.Sandbox{}, err
		}
	}
	if err := writeJSON(r.files.podFile(pod.UID), rec); err != nil {
		return runtime.Sandbox{}, err
	}
	p = &podEntry{rec: rec, containers: map[string]*instance{}}
	r.mu.Lock()
	r.pods[pod.UID] = p
	r.mu.Unlock()
	if len(rec.HostPorts) > 0 {
		r.syncHostPorts(ctx)
	}
	if err := r.startPause(p, pod); err != nil {
		return runtime.Sandbox{}, fmt.Errorf("start the pod's pause process: %w", err)
	}
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
		Address: netip.PrefixFrom(ip, gw.Bits()), Gateway: gw.Addr(), MTU: r.cfg.PodMTU,
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
	if err := r.stopPause(ctx, p); err != nil {
		return err
	}
	if err := r.removeNetwork(p.rec); err != nil {
		return fmt.Errorf("remove sandbox of %s/%s: %w", p.rec.Namespace, p.rec.Name, err)
	}
	if err := r.cfg.Pinner.Unpin(p.rec.IPCPath); err != nil {
		return fmt.Errorf("remove sandbox of %s/%s: %w", p.rec.Namespace, p.rec.Name, err)
	}
	if err := r.removePodCgroup(p.rec); err != nil {
		return fmt.Errorf("remove sandbox of %s/%s: %w", p.rec.Namespace, p.rec.Name, err)
	}
	r.mu.Lock()
	delete(r.pods, uid)
	r.mu.Unlock()
	if len(p.rec.HostPorts) > 0 {
		r.syncHostPorts(ctx)
	}
	if err := os.RemoveAll(r.files.podDir(uid)); err != nil {
		return fmt.Errorf("remove pod dir: %w", err)
	}
	return nil
}

// Pinner keeps namespaces that no process holds, bound to files.
type Pinner interface {
	// Pin creates a namespace of one kind (a CLONE_NEW* flag; kind is
	// its name under /proc/PID/ns) bound at path.
	Pin(path string, flag int, kind string) error
	// Unpin releases it; a missing one is fine.
	Unpin(path string) error
}

// KernelPinner pins namespaces for real.
type KernelPinner struct{}

// Pin implements Pinner.
func (KernelPinner) Pin(path string, flag int, kind string) error {
	return pinNamespace(path, flag, kind)
}

// Unpin implements Pinner.
func (KernelPinner) Unpin(path string) error { return unpinNamespace(path) }

// pinNamespace creates a namespace of one kind and keeps it after its
// last process by binding it to a file at path, as `ip netns` does for
// network namespaces. The thread that made it is locked and exits with
// its goroutine, so no other goroutine ever runs in the namespace.
func pinNamespace(path string, flag int, kind string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return fmt.Errorf("%s namespace: %w", kind, err)
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		if err := unix.Unshare(flag); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/%s", unix.Gettid(), kind), path, "", unix.MS_BIND, "")
	}()
	if err := <-errc; err != nil {
		os.Remove(path)
		return fmt.Errorf("create the pod's %s namespace: %w", kind, err)
	}
	return nil
}

// unpinNamespace releases a namespace pinned at path; a missing one is
// fine.
func unpinNamespace(path string) error {
	if path == "" {
		return nil
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("unpin %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
