package apiserver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/netip"
	"sort"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
)

// EndpointsConfig says how this API server is reached, for the endpoints
// of the kubernetes Service.
type EndpointsConfig struct {
	// Address and Port are where this server is reached.
	Address netip.Addr
	Port    int32
	// LeaseDuration: a server whose lease is older is dropped (default 15s).
	LeaseDuration time.Duration
	// Interval spaces the renewals (default a third of LeaseDuration).
	Interval time.Duration
}

// Labels and annotations of the API server leases in kube-system.
const (
	endpointLeaseLabel      = "apiserver.svcplane.io/endpoint"
	endpointLeaseAnnotation = "apiserver.svcplane.io/address"
	kubernetesService       = "kubernetes"
)

// RunKubernetesEndpoints keeps, until ctx ends, a lease for this server and
// the Endpoints and EndpointSlice of the kubernetes Service listing every
// server whose lease is live. On the way out it removes itself.
func (s *Server) RunKubernetesEndpoints(ctx context.Context, cfg EndpointsConfig) {
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = 15 * time.Second
	}
	if cfg.Interval == 0 {
		cfg.Interval = cfg.LeaseDuration / 3
	}
	log := s.cfg.Logger.With("reconciler", "kubernetes-endpoints")
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		if err := s.reconcileKubernetesEndpoints(ctx, cfg, false); err != nil && ctx.Err() == nil {
			log.Warn("reconcile the kubernetes endpoints", "err", err)
		}
		select {
		case <-ctx.Done():
			stop, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.reconcileKubernetesEndpoints(stop, cfg, true); err != nil {
				log.Warn("remove this server from the kubernetes endpoints", "err", err)
			}
			return
		case <-t.C:
		}
	}
}

func (s *Server) reconcileKubernetesEndpoints(ctx context.Context, cfg EndpointsConfig, leaving bool) error {
	if err := s.renewLease(ctx, cfg, leaving); err != nil {
		return err
	}
	live, err := s.liveServers(ctx, cfg.LeaseDuration)
	if err != nil {
		return err
	}
	if err := s.writeSystemObject(ctx, corev1.SchemeGroupVersion.WithResource("endpoints"), kubernetesEndpoints(live)); err != nil {
		return err
	}
	return s.writeSystemObject(ctx, discoveryv1.SchemeGroupVersion.WithResource("endpointslices"), kubernetesSlice(live))
}

func leaseName(cfg EndpointsConfig) string {
	sum := sha256.Sum256([]byte(netip.AddrPortFrom(cfg.Address, uint16(cfg.Port)).String()))
	return "apiserver-" + hex.EncodeToString(sum[:8])
}

// renewLease writes this server's lease, or deletes it when leaving.
func (s *Server) renewLease(ctx context.Context, cfg EndpointsConfig, leaving bool) error {
	h := s.resources[coordinationv1.SchemeGroupVersion.WithResource("leases")]
	name := leaseName(cfg)
	if leaving {
		_, err := h.store.Delete(ctx, metav1.NamespaceSystem, name, 0)
		if apierrors.IsNotFound(err) {
			return nil
		}
		return err
	}
	now := metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespaceSystem,
			Labels:      map[string]string{endpointLeaseLabel: "true"},
			Annotations: map[string]string{endpointLeaseAnnotation: netip.AddrPortFrom(cfg.Address, uint16(cfg.Port)).String()}},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To(name), LeaseDurationSeconds: ptr.To(int32(cfg.LeaseDuration / time.Second)),
			RenewTime: &now},
	}
	return s.writeSystemObject(ctx, coordinationv1.SchemeGroupVersion.WithResource("leases"), lease)
}

// liveServers returns the addresses of the servers with a live lease, and
// deletes the expired leases.
func (s *Server) liveServers(ctx context.Context, grace time.Duration) ([]netip.AddrPort, error) {
	h := s.resources[coordinationv1.SchemeGroupVersion.WithResource("leases")]
	res, err := h.store.List(ctx, objstore.ListOptions{Namespace: metav1.NamespaceSystem})
	if err != nil {
		return nil, err
	}
	var live []netip.AddrPort
	for _, obj := range res.Items {
		l := obj.(*coordinationv1.Lease)
		ap, err := netip.ParseAddrPort(l.Annotations[endpointLeaseAnnotation])
		if l.Labels[endpointLeaseLabel] != "true" || err != nil {
			continue
		}
		if l.Spec.RenewTime == nil || time.Since(l.Spec.RenewTime.Time) > grace {
			rev, _ := objstore.ParseResourceVersion(l.ResourceVersion)
			_, _ = h.store.Delete(ctx, l.Namespace, l.Name, rev)
			continue
		}
		live = append(live, ap)
	}
	sort.Slice(live, func(i, j int) bool { return live[i].Addr().Less(live[j].Addr()) })
	return live, nil
}

func kubernetesEndpoints(live []netip.AddrPort) *corev1.Endpoints {
	ep := &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: kubernetesService, Namespace: metav1.NamespaceDefault,
		Labels: map[string]string{discoveryv1.LabelSkipMirror: "true"}}}
	byPort := map[uint16][]corev1.EndpointAddress{}
	var ports []uint16
	for _, ap := range live {
		if _, ok := byPort[ap.Port()]; !ok {
			ports = append(ports, ap.Port())
		}
		byPort[ap.Port()] = append(byPort[ap.Port()], corev1.EndpointAddress{IP: ap.Addr().String()})
	}
	for _, p := range ports {
		ep.Subsets = append(ep.Subsets, corev1.EndpointSubset{Addresses: byPort[p],
			Ports: []corev1.EndpointPort{{Name: "https", Port: int32(p), Protocol: corev1.ProtocolTCP}}})
	}
	return ep
}

func kubernetesSlice(live []netip.AddrPort) *discoveryv1.EndpointSlice {
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: kubernetesService, Namespace: metav1.NamespaceDefault,
			Labels: map[string]string{discoveryv1.LabelServiceName: kubernetesService}},
		AddressType: discoveryv1.AddressTypeIPv4,
	}
	for _, ap := range live {
		if ap.Addr().Is6() {
			es.AddressType = discoveryv1.AddressTypeIPv6
		}
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{ap.Addr().String()},
			Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
		if len(es.Ports) == 0 {
			es.Ports = []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(int32(ap.Port())), Protocol: ptr.To(corev1.ProtocolTCP)}}
		}
	}
	return es
}

// writeSystemObject creates or updates an object the server itself owns,
// straight to storage, when it differs from what is stored.
func (s *Server) writeSystemObject(ctx context.Context, gvr schema.GroupVersionResource, want runtime.Object) error {
	h := s.resources[gvr]
	want.GetObjectKind().SetGroupVersionKind(h.def.GroupVersionKind())
	m := accessor(want)
	cur, err := h.store.Get(ctx, m.GetNamespace(), m.GetName())
	if apierrors.IsNotFound(err) {
		resetCreateMeta(m)
		h.def.Strategy.Default(want)
		_, err = h.store.Create(ctx, want)
		return err
	}
	if err != nil {
		return err
	}
	cm := accessor(cur)
	m.SetUID(cm.GetUID())
	m.SetCreationTimestamp(cm.GetCreationTimestamp())
	m.SetResourceVersion(cm.GetResourceVersion())
	h.def.Strategy.Default(want)
	if apiequality.Semantic.DeepEqual(want, cur) {
		return nil
	}
	if _, err := h.store.Update(ctx, want); err != nil {
		return fmt.Errorf("update %s %s: %w", gvr.Resource, m.GetName(), err)
	}
	return nil
}
