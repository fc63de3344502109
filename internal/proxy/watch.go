package proxy

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
)

// proxySelector leaves out what kube-proxy leaves out: Services handled by
// another proxy, and headless Services' EndpointSlices.
const proxySelector = "!service.kubernetes.io/service-proxy-name,!service.kubernetes.io/headless"

// Watch runs the informers that feed p's trackers until ctx ends, and marks
// p synced once their caches are. It returns when the caches are synced.
func Watch(ctx context.Context, client kubernetes.Interface, p *Proxier, resync time.Duration) error {
	f := informers.NewSharedInformerFactoryWithOptions(client, resync,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = proxySelector }))
	svcInf := f.Core().V1().Services().Informer()
	sliceInf := f.Discovery().V1().EndpointSlices().Informer()
	if _, err := svcInf.AddEventHandler(serviceHandler(p)); err != nil {
		return err
	}
	if _, err := sliceInf.AddEventHandler(sliceHandler(p)); err != nil {
		return err
	}
	nodes := informers.NewSharedInformerFactoryWithOptions(client, resync,
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", p.cfg.NodeName).String()
		}))
	nodeInf := nodes.Core().V1().Nodes().Informer()
	if _, err := nodeInf.AddEventHandler(nodeHandler(p)); err != nil {
		return err
	}
	f.Start(ctx.Done())
	nodes.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), svcInf.HasSynced, sliceInf.HasSynced, nodeInf.HasSynced) {
		return fmt.Errorf("proxy informers: %w", ctx.Err())
	}
	p.SetSynced()
	return nil
}

func serviceHandler(p *Proxier) cache.ResourceEventHandler {
	update := func(prev, cur *corev1.Service) {
		changed := false
		for _, t := range p.Trackers() {
			changed = t.ServiceUpdate(prev, cur) || changed
		}
		if changed {
			p.Changed()
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if s, ok := obj.(*corev1.Service); ok {
				update(nil, s)
			}
		},
		UpdateFunc: func(old, cur any) {
			o, ok1 := old.(*corev1.Service)
			c, ok2 := cur.(*corev1.Service)
			if ok1 && ok2 {
				update(o, c)
			}
		},
		DeleteFunc: func(obj any) {
			if s, ok := unwrapDeleted(obj).(*corev1.Service); ok {
				update(s, nil)
			}
		},
	}
}

func sliceHandler(p *Proxier) cache.ResourceEventHandler {
	update := func(s *discoveryv1.EndpointSlice, removed bool) {
		changed := false
		for _, t := range p.Trackers() {
			changed = t.SliceUpdate(s, removed) || changed
		}
		if changed {
			p.Changed()
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			if s, ok := obj.(*discoveryv1.EndpointSlice); ok {
				update(s, false)
			}
		},
		UpdateFunc: func(_, cur any) {
			if s, ok := cur.(*discoveryv1.EndpointSlice); ok {
				update(s, false)
			}
		},
		DeleteFunc: func(obj any) {
			if s, ok := unwrapDeleted(obj).(*discoveryv1.EndpointSlice); ok {
				update(s, true)
			}
		},
	}
}

func nodeHandler(p *Proxier) cache.ResourceEventHandler {
	set := func(obj any) {
		if n, ok := obj.(*corev1.Node); ok {
			p.SetNodeLabels(n.Labels)
		}
	}
	return cache.ResourceEventHandlerFuncs{
		AddFunc:    set,
		UpdateFunc: func(_, cur any) { set(cur) },
		DeleteFunc: func(any) { p.SetNodeLabels(nil) },
	}
}

func unwrapDeleted(obj any) any {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return obj
}
