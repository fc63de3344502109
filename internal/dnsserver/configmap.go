package dnsserver

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	dnsforward "github.com/svcplane/svcplane/internal/dns/forward"
)

// kubeDNSConfigMap is kube-dns's ConfigMap in kube-system.
const kubeDNSConfigMap = "kube-dns"

// watchKubeDNSConfigMap applies the stubDomains and upstreamNameservers
// of the kube-system/kube-dns ConfigMap to fwd as they change, as kube-dns
// read them; without the ConfigMap (or its keys) the configured ones hold.
func watchKubeDNSConfigMap(ctx context.Context, client kubernetes.Interface, fwd *dnsforward.Forwarder, cfg Config) {
	f := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute,
		informers.WithNamespace("kube-system"),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", kubeDNSConfigMap).String()
		}))
	apply := func(obj any) {
		cm, _ := obj.(*corev1.ConfigMap)
		stubs, ups := cfg.StubDomains, cfg.Upstreams
		if cm != nil {
			s, u, err := dnsforward.ParseKubeDNSConfigMap(cm.Data)
			if err != nil {
				cfg.Logger.Error("kube-system/kube-dns ConfigMap ignored", "err", err)
				return
			}
			if s != nil {
				stubs = s
			}
			if u != nil {
				ups = u
			}
		}
		if err := fwd.SetStubDomains(stubs); err != nil {
			cfg.Logger.Error("stub domains", "err", err)
		}
		if err := fwd.SetUpstreams(ups); err != nil {
			cfg.Logger.Error("upstream nameservers", "err", err)
		}
		cfg.Logger.Info("dns forwarding", "stubDomains", len(stubs), "upstreams", len(ups))
	}
	_, _ = f.Core().V1().ConfigMaps().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    apply,
		UpdateFunc: func(_, obj any) { apply(obj) },
		DeleteFunc: func(any) { apply(nil) },
	})
	f.Start(ctx.Done())
	<-ctx.Done()
	f.Shutdown()
}
