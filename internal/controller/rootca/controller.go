// Package rootca is the root-ca-cert-publisher: it keeps the
// `kube-root-ca.crt` ConfigMap, key `ca.crt` holding the cluster CA, in
// every active namespace, creating it and putting it back when it is
// deleted or edited, as kube-controller-manager's does. Pods read it
// through their automatic service account volume to trust the API
// server.
package rootca

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "root-ca-cert-publisher"

// ConfigMapName, DataKey and the description annotation, as upstream's.
const (
	ConfigMapName         = "kube-root-ca.crt"
	DataKey               = "ca.crt"
	DescriptionAnnotation = "kubernetes.io/description"
	Description           = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. " +
		"No other usage is guaranteed across distributions of Kubernetes clusters."
)

// Config configures the controller.
type Config struct {
	Client     kubernetes.Interface
	Namespaces coreinformers.NamespaceInformer
	ConfigMaps coreinformers.ConfigMapInformer
	// RootCA is the PEM bundle published.
	RootCA []byte
	Logger *slog.Logger
}

// Controller publishes the root CA.
type Controller struct {
	cfg        Config
	namespaces corelisters.NamespaceLister
	configMaps corelisters.ConfigMapLister
	runner     *controller.Runner
	synced     []cache.InformerSynced
}

// New builds the controller and registers its event handlers. Keys are
// namespace names.
func New(cfg Config) (*Controller, error) {
	if len(cfg.RootCA) == 0 {
		return nil, errors.New("root CA publisher: no CA")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Controller{
		cfg: cfg, namespaces: cfg.Namespaces.Lister(), configMaps: cfg.ConfigMaps.Lister(),
		synced: []cache.InformerSynced{cfg.Namespaces.Informer().HasSynced, cfg.ConfigMaps.Informer().HasSynced},
	}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	_, err := cfg.Namespaces.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueNamespace,
		UpdateFunc: func(_, cur any) { c.enqueueNamespace(cur) },
	})
	if err != nil {
		return nil, fmt.Errorf("root CA publisher handlers: %w", err)
	}
	_, err = cfg.ConfigMaps.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(_, cur any) { c.enqueueConfigMap(cur) },
		DeleteFunc: c.enqueueConfigMap,
	})
	if err != nil {
		return nil, fmt.Errorf("root CA publisher handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced...)
}

func (c *Controller) enqueueNamespace(obj any) {
	if ns, ok := obj.(*corev1.Namespace); ok {
		c.runner.Enqueue(ns.Name)
	}
}

func (c *Controller) enqueueConfigMap(obj any) {
	if tomb, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	if cm, ok := obj.(*corev1.ConfigMap); ok && cm.Name == ConfigMapName {
		c.runner.Enqueue(cm.Namespace)
	}
}

// sync makes one namespace's ConfigMap what it should be.
func (c *Controller) sync(ctx context.Context, name string) error {
	ns, err := c.namespaces.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns.DeletionTimestamp != nil || ns.Status.Phase == corev1.NamespaceTerminating {
		return nil
	}
	cm, err := c.configMaps.ConfigMaps(name).Get(ConfigMapName)
	switch {
	case apierrors.IsNotFound(err):
		return c.create(ctx, name)
	case err != nil:
		return err
	}
	want := Desired(cm, c.cfg.RootCA)
	if want == nil {
		return nil
	}
	_, err = c.cfg.Client.CoreV1().ConfigMaps(name).Update(ctx, want, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update configmap %s/%s: %w", name, ConfigMapName, err)
	}
	return nil
}

func (c *Controller) create(ctx context.Context, ns string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Annotations: map[string]string{DescriptionAnnotation: Description}},
		Data:       map[string]string{DataKey: string(c.cfg.RootCA)},
	}
	_, err := c.cfg.Client.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{})
	switch {
	case err == nil, apierrors.IsAlreadyExists(err), apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause),
		apierrors.IsNotFound(err):
		return nil
	}
	return fmt.Errorf("create configmap %s/%s: %w", ns, ConfigMapName, err)
}

// Desired returns the ConfigMap corrected (data exactly ca.crt = the CA,
// the description annotation present), or nil when it is right already.
func Desired(cm *corev1.ConfigMap, ca []byte) *corev1.ConfigMap {
	data := map[string]string{DataKey: string(ca)}
	if maps.Equal(cm.Data, data) && len(cm.BinaryData) == 0 && cm.Annotations[DescriptionAnnotation] != "" {
		return nil
	}
	out := cm.DeepCopy()
	out.Data, out.BinaryData = data, nil
	if out.Annotations == nil {
		out.Annotations = map[string]string{}
	}
	out.Annotations[DescriptionAnnotation] = Description
	return out
}
