package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"

	"golang.org/x/sys/unix"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/svcplane/svcplane/internal/agent/cgroups"
	"github.com/svcplane/svcplane/internal/agent/images"
	"github.com/svcplane/svcplane/internal/netns"
)

// node is what the container starts need, made once: the built-in
// images' trees, a cgroup root, the pod's network and IPC namespaces and
// its /etc files.
type node struct {
	bin, dir  string
	initBin   string // svcplane-init, which starts containers as the agent does
	busybox   string // the busybox binary, which the workload runs
	trees     images.Trees
	cg        *cgroups.Node
	nsDir     *netns.Dir
	netnsPath string
	ipcPath   string
	files     map[string]string
}

// newNode lays out the node in dir; close removes what it made.
func newNode(bin, dir string) (*node, error) {
	n := &node{bin: bin, initBin: filepath.Join(filepath.Dir(bin), "svcplane-init"), dir: dir,
		nsDir: netns.NewDir(filepath.Join(dir, "ns"))}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	bb, _ := images.FindBusybox(images.DefaultBusybox)
	if bb == "" {
		return nil, errors.New("no busybox (run hack/deps.sh)")
	}
	n.busybox = bb
	var err error
	n.trees, err = images.PrepareTrees(images.TreeLayout{Dir: filepath.Join(dir, "images"), Self: bin, Busybox: bb})
	if err != nil {
		return nil, err
	}
	if n.cg, err = cgroups.New(cgroups.Config{Name: fmt.Sprintf("svcplane-bench-pods-%d", os.Getpid())}); err != nil {
		return nil, err
	}
	if n.netnsPath, err = n.nsDir.Create("pod-net"); err != nil {
		n.close()
		return nil, err
	}
	n.ipcPath = n.nsDir.Path("pod-ipc")
	if err := pinIPC(n.ipcPath); err != nil {
		n.close()
		return nil, err
	}
	if err := n.writeFiles(); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// writeFiles writes the pod's /etc files, as the runtime does.
func (n *node) writeFiles() error {
	n.files = map[string]string{}
	for target, content := range map[string]string{
		"/etc/hosts":       "127.0.0.1\tlocalhost\n10.244.0.5\tbench\n",
		"/etc/resolv.conf": "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n",
		"/etc/hostname":    "bench\n",
	} {
		src := filepath.Join(n.dir, filepath.Base(target))
		if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
			return err
		}
		n.files[target] = src
	}
	return nil
}

// close removes the namespaces, their directory's mount and the cgroups.
func (n *node) close() {
	_ = unix.Unmount(n.ipcPath, unix.MNT_DETACH)
	_ = n.nsDir.Delete("pod-net")
	_ = unix.Unmount(n.nsDir.Root, unix.MNT_DETACH)
	if n.cg != nil {
		if err := n.cg.Cleanup(); err != nil {
			fmt.Fprintln(os.Stderr, "bench: remove the cgroups:", err)
		}
	}
}

// pinIPC creates an IPC namespace bound at path, as the runtime pins a
// pod's. The thread that made it ends with its goroutine.
func pinIPC(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDONLY, 0o444)
	if err != nil {
		return err
	}
	f.Close()
	errc := make(chan error, 1)
	go func() {
		goruntime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWIPC); err != nil {
			errc <- err
			return
		}
		errc <- unix.Mount(fmt.Sprintf("/proc/self/task/%d/ns/ipc", unix.Gettid()), path, "", unix.MS_BIND, "")
	}()
	return <-errc
}

// benchPod is a Burstable busybox pod with limits, so that its cgroups
// get every setting.
func benchPod(i int) *corev1.Pod {
	res := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("64Mi")}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("bench-%d", i), Namespace: "default",
			UID: types.UID(fmt.Sprintf("bench-%d-%d", os.Getpid(), i))},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name: "app", Image: "busybox", Command: []string{"sleep", "3600"},
			Resources: corev1.ResourceRequirements{Limits: res, Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}},
		}}},
	}
}
