package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	discoverylisters "k8s.io/client-go/listers/discovery/v1"
)

// observer watches a namespace's Endpoints and EndpointSlices, as a proxy
// would, to tell when the controllers' writes have arrived.
type observer struct {
	endpoints corelisters.EndpointsLister
	slices    discoverylisters.EndpointSliceLister
	ns        string
}

func observe(ctx context.Context, c kubernetes.Interface, ns string) (*observer, error) {
	f := informers.NewSharedInformerFactoryWithOptions(c, 0, informers.WithNamespace(ns))
	o := &observer{endpoints: f.Core().V1().Endpoints().Lister(), slices: f.Discovery().V1().EndpointSlices().Lister(), ns: ns}
	f.Start(ctx.Done())
	for typ, ok := range f.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return nil, fmt.Errorf("cache of %v not synced", typ)
		}
	}
	return o, nil
}

// counts returns, per Service, the ready addresses of its Endpoints and
// the ready endpoints of its slices.
func (o *observer) counts() (eps, slices map[string]int) {
	eps, slices = map[string]int{}, map[string]int{}
	list, _ := o.endpoints.Endpoints(o.ns).List(labels.Everything())
	for _, ep := range list {
		for _, ss := range ep.Subsets {
			eps[ep.Name] += len(ss.Addresses)
		}
	}
	all, _ := o.slices.EndpointSlices(o.ns).List(labels.Everything())
	for _, s := range all {
		for _, e := range s.Endpoints {
			if e.Conditions.Ready != nil && *e.Conditions.Ready {
				slices[s.Labels[discoveryv1.LabelServiceName]]++
			}
		}
	}
	return eps, slices
}

// complete reports whether services Services each show want ready
// endpoints in both APIs.
func (o *observer) complete(services, want int) bool {
	eps, slices := o.counts()
	done := 0
	for name, n := range eps {
		if n == want && slices[name] == want {
			done++
		}
	}
	return done == services
}

// notReady reports whether the Endpoints and the slices show the pod with
// ip as not ready.
func (o *observer) notReady(service, ip string) bool {
	ep, err := o.endpoints.Endpoints(o.ns).Get(service)
	if err != nil || !listedNotReady(ep, ip) {
		return false
	}
	all, _ := o.slices.EndpointSlices(o.ns).List(labels.SelectorFromSet(labels.Set{discoveryv1.LabelServiceName: service}))
	for _, s := range all {
		for _, e := range s.Endpoints {
			if e.Addresses[0] == ip {
				return e.Conditions.Ready != nil && !*e.Conditions.Ready
			}
		}
	}
	return false
}

func listedNotReady(ep *corev1.Endpoints, ip string) bool {
	for _, ss := range ep.Subsets {
		for _, a := range ss.NotReadyAddresses {
			if a.IP == ip {
				return true
			}
		}
	}
	return false
}

// waitUntil polls cond every step until it holds or timeout passes.
func waitUntil(ctx context.Context, timeout, step time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not converged after %v", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step):
		}
	}
	return nil
}

// settle waits until the controllers have made no write for quiet.
func (b *bench) settle(quiet time.Duration) {
	last := b.writes.total()
	for {
		time.Sleep(quiet)
		n := b.writes.total()
		if n == last {
			return
		}
		last = n
	}
}
