package cgroups

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	occgroups "github.com/opencontainers/cgroups"
	"github.com/opencontainers/cgroups/fs"
	"github.com/opencontainers/cgroups/fs2"
)

// BenchmarkPodCgroups is the cgroups' share of a pod start and end: a
// Burstable pod with one container limited in memory and CPU, created with
// its settings, then removed. Per step: ensure-pod, container, remove.
func BenchmarkPodCgroups(b *testing.B) {
	n := kernelNode(b, Config{})
	pod := testPod("", ctr("app", res("100m", "64Mi", "500m", "128Mi")))
	s := Plan(pod, &pod.Spec.Containers[0])
	var ensure, create, remove time.Duration
	for i := 0; b.Loop(); i++ {
		pod.UID = types.UID(podUID(i))
		t0 := time.Now()
		p, err := n.EnsurePod(pod)
		t1 := time.Now()
		c, err2 := p.Container("app", 0, s)
		t2 := time.Now()
		err3 := c.Remove()
		err4 := n.RemovePod(pod.UID)
		t3 := time.Now()
		if err := firstErr(err, err2, err3, err4); err != nil {
			b.Fatal(err)
		}
		ensure, create, remove = ensure+t1.Sub(t0), create+t2.Sub(t1), remove+t3.Sub(t2)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(per(ensure), "µs-pod")
	b.ReportMetric(per(create), "µs-container")
	b.ReportMetric(per(remove), "µs-remove")
}

// BenchmarkLibraryContainer is the same container cgroup made by
// opencontainers/cgroups' fs (v1) or fs2 manager instead, for the choice
// made in the package doc: Apply, Set, Destroy.
func BenchmarkLibraryContainer(b *testing.B) {
	n := kernelNode(b, Config{})
	pod := testPod("lib", ctr("app", res("100m", "64Mi", "500m", "128Mi")))
	p, err := n.EnsurePod(pod)
	if err != nil {
		b.Fatal(err)
	}
	r := &occgroups.Resources{Memory: 128 << 20, MemorySwap: 128 << 20, CpuShares: 102, CpuQuota: 50000, CpuPeriod: 100000, SkipDevices: true}
	for i := 0; b.Loop(); i++ {
		m, err := libManager(n, p, fmt.Sprintf("app_%d", i), r)
		if err == nil {
			err = m.Apply(-1)
		}
		if err == nil {
			err = m.Set(r)
		}
		if err == nil {
			err = m.Destroy()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

func libManager(n *Node, p Pod, name string, r *occgroups.Resources) (occgroups.Manager, error) {
	cg := &occgroups.Cgroup{Resources: r}
	if n.v2 {
		return fs2.NewManager(cg, filepath.Join(n.dir("memory", p.rel), name))
	}
	paths := map[string]string{}
	for _, h := range n.trees {
		for _, c := range h.controllers {
			paths[c] = filepath.Join(h.dir, p.rel, name)
		}
	}
	return fs.NewManager(cg, paths)
}

func podUID(i int) string { return fmt.Sprintf("bench-%d", i) }

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkContainer is a container cgroup made and removed by this
// package: the counterpart of BenchmarkLibraryContainer.
func BenchmarkContainer(b *testing.B) {
	n := kernelNode(b, Config{})
	pod := testPod("own", ctr("app", res("100m", "64Mi", "500m", "128Mi")))
	p, err := n.EnsurePod(pod)
	if err != nil {
		b.Fatal(err)
	}
	s := Plan(pod, &pod.Spec.Containers[0])
	for i := 0; b.Loop(); i++ {
		c, err := p.Container("app", i, s)
		if err == nil {
			err = c.Remove()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}
