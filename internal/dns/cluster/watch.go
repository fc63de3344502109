package cluster

// watch.go: the informers that keep the index. Services, EndpointSlices
// (discovery.k8s.io/v1) and Namespaces are watched in all namespaces;
// Pods only for pods verified or autopath, without finished pods, as
// CoreDNS. Every object is trimmed (transform.go) and each event updates
// the index for that one object.

import (
	"context"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
)

// podFieldSelector leaves out pods that are done, as CoreDNS.
const podFieldSelector = "status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown"

// Run starts the informers and blocks until ctx ends; it then stops them
// and returns nil. Ready turns true once every informer has delivered its
// initial list to the index; until then the zone is answered SERVFAIL.
// Run returns an error at once without a Client or with an invalid
// Config.
func (c *Cluster) Run(ctx context.Context) error {
	if c.cfg.Client == nil {
		return errors.New("cluster dns: no kubernetes client")
	}
	if err := c.cfg.Validate(); err != nil {
		return fmt.Errorf("cluster dns: %w", err)
	}
	factories, infs := c.informers()
	synced, err := c.register(infs)
	if err != nil {
		return fmt.Errorf("cluster dns: %w", err)
	}
	for _, f := range factories {
		f.Start(ctx.Done())
	}
	go c.waitForSync(ctx, synced)
	<-ctx.Done()
	for _, f := range factories {
		f.Shutdown()
	}
	return nil
}

// informers creates the informers to run and the factories that run them.
func (c *Cluster) informers() ([]informers.SharedInformerFactory, []cache.SharedIndexInformer) {
	f := informers.NewSharedInformerFactory(c.cfg.Client, 0)
	factories := []informers.SharedInformerFactory{f}
	infs := []cache.SharedIndexInformer{
		f.Core().V1().Services().Informer(),
		f.Discovery().V1().EndpointSlices().Informer(),
		f.Core().V1().Namespaces().Informer(),
	}
	if c.watchPods() {
		notDone := informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = podFieldSelector })
		pf := informers.NewSharedInformerFactoryWithOptions(c.cfg.Client, 0, notDone)
		factories = append(factories, pf)
		infs = append(infs, pf.Core().V1().Pods().Informer())
	}
	return factories, infs
}

// register sets the trimming transform and the index's handlers on infs,
// and returns the functions saying each handler has its initial list.
func (c *Cluster) register(infs []cache.SharedIndexInformer) ([]cache.InformerSynced, error) {
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    c.idx.set,
		UpdateFunc: func(_, obj any) { c.idx.set(obj) },
		DeleteFunc: c.idx.remove,
	}
	var synced []cache.InformerSynced
	for _, inf := range infs {
		if err := inf.SetTransform(trim); err != nil {
			return nil, fmt.Errorf("set transform: %w", err)
		}
		reg, err := inf.AddEventHandler(handler)
		if err != nil {
			return nil, fmt.Errorf("add event handler: %w", err)
		}
		synced = append(synced, reg.HasSynced)
	}
	return synced, nil
}

// waitForSync marks the Cluster ready once all of synced report true.
func (c *Cluster) waitForSync(ctx context.Context, synced []cache.InformerSynced) {
	start := time.Now()
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		return
	}
	c.ready.Store(true)
	st := c.Stats()
	c.log.Info("cluster dns synced", "after", time.Since(start).Round(time.Millisecond),
		"services", st.Services, "endpointSlices", st.EndpointSlices, "namespaces", st.Namespaces, "pods", st.Pods)
}
