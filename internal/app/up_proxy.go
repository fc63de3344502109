package app

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	kpv1 "k8s.io/kube-proxy/config/v1alpha1"

	proxyconfig "github.com/svcplane/svcplane/internal/proxy/config"
)

// ProxySettings are the proxy's knobs of `up`.
type ProxySettings struct {
	// Mode is the proxy mode; ModeSet says it was given on the command
	// line, so it replaces the mode of an existing kube-proxy ConfigMap.
	Mode    string
	ModeSet bool
	// IPTablesBackend is legacy, nft or auto.
	IPTablesBackend string
	// NoProxy runs no proxy.
	NoProxy bool
}

// The ConfigMap kubeadm writes kube-proxy's configuration to.
const (
	kubeProxyConfigMap = "kube-proxy"
	kubeProxyConfigKey = "config.conf"
)

// startProxy runs the node's proxy in the background with the
// configuration of the kube-system/kube-proxy ConfigMap, which it writes
// on first start (as kubeadm does) and keeps in step with --proxy-mode.
// The proxy follows later edits of the ConfigMap live.
func startProxy(ctx context.Context, s *APIServer, cfg UpConfig) error {
	rc, err := ComponentRESTConfig(s, "system:kube-proxy")
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	kp, err := ensureKubeProxyConfig(ctx, client, cfg, upProxyOverride(cfg), nil)
	if err != nil {
		return err
	}
	pcfg := ProxyConfig{RESTConfig: rc, KubeProxy: kp, IPTablesBackend: cfg.Proxy.IPTablesBackend,
		ConfigMap: "kube-system/" + kubeProxyConfigMap, Override: upProxyOverride(cfg),
		Logger: cfg.Logger.With("component", "proxy")}
	go func() {
		if err := RunProxy(ctx, pcfg); err != nil && ctx.Err() == nil {
			cfg.Logger.Error("proxy stopped", "err", err)
		}
	}()
	return nil
}

// ensureKubeProxyConfig reads the kube-proxy ConfigMap, creating it from
// up's settings when it is missing; what override sets and an explicit
// --proxy-mode always come from up, as do the extra keys.
func ensureKubeProxyConfig(ctx context.Context, client kubernetes.Interface, cfg UpConfig,
	override func(*kpv1.KubeProxyConfiguration), extra map[string]string) (*kpv1.KubeProxyConfiguration, error) {
	cms := client.CoreV1().ConfigMaps("kube-system")
	kp := proxyconfig.Default()
	existing, err := cms.Get(ctx, kubeProxyConfigMap, metav1.GetOptions{})
	found := err == nil
	switch {
	case found:
		parsed, perr := proxyconfig.Decode([]byte(existing.Data[kubeProxyConfigKey]))
		if perr != nil {
			return nil, fmt.Errorf("kube-system/%s %s: %w", kubeProxyConfigMap, kubeProxyConfigKey, perr)
		}
		kp = parsed
	case !apierrors.IsNotFound(err):
		return nil, fmt.Errorf("read kube-system/%s: %w", kubeProxyConfigMap, err)
	}
	if !found || cfg.Proxy.ModeSet {
		kp.Mode = kpv1.ProxyMode(orString(cfg.Proxy.Mode, "iptables"))
	}
	override(kp)
	data, err := proxyconfig.Marshal(kp)
	if err != nil {
		return nil, err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: kubeProxyConfigMap, Namespace: "kube-system", Labels: map[string]string{"app": "kube-proxy"}},
		Data:       map[string]string{kubeProxyConfigKey: string(data)},
	}
	for k, v := range extra {
		cm.Data[k] = v
	}
	if !found {
		_, err = cms.Create(ctx, cm, metav1.CreateOptions{})
	} else if !sameData(existing.Data, cm.Data) {
		if existing.Data == nil {
			existing.Data = map[string]string{}
		}
		for k, v := range cm.Data {
			existing.Data[k] = v
		}
		_, err = cms.Update(ctx, existing, metav1.UpdateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("write kube-system/%s: %w", kubeProxyConfigMap, err)
	}
	return kp, nil
}

// sameData reports whether have holds every key of want with its value.
func sameData(have, want map[string]string) bool {
	for k, v := range want {
		if w, ok := have[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// upProxyOverride sets what up decides in every kube-proxy configuration:
// the node's name and the cluster CIDR.
func upProxyOverride(cfg UpConfig) func(*kpv1.KubeProxyConfiguration) {
	return func(kp *kpv1.KubeProxyConfiguration) {
		kp.ClusterCIDR = orString(cfg.Controllers.PodCIDR, "10.244.0.0/16")
		kp.HostnameOverride = upNodeName(cfg)
	}
}

// upNodeName is the name of up's node, as the agent registers it.
func upNodeName(cfg UpConfig) string {
	return cfg.Agent.withDefaults().NodeName
}
