// Package bootstrapsigner is kube-controller-manager's bootstrapsigner:
// it signs the kubeconfig of the kube-public/cluster-info ConfigMap with
// every bootstrap token that may sign (usage-bootstrap-signing "true",
// not expired, its Secret named after its token-id), writing a detached
// JWS per token under jws-kubeconfig-<token-id> and dropping stale ones,
// so that a joining node holding a token can tell the ConfigMap comes
// from a server that knows the token.
package bootstrapsigner

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
	bootstrapsecrets "k8s.io/cluster-bootstrap/util/secrets"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "bootstrapsigner"

// key is the one work item: the ConfigMap.
const key = "cluster-info"

// Config configures the controller.
type Config struct {
	Client     kubernetes.Interface
	ConfigMaps coreinformers.ConfigMapInformer
	Secrets    coreinformers.SecretInformer
	Now        func() time.Time
	Logger     *slog.Logger
}

// Controller keeps the signatures.
type Controller struct {
	cfg        Config
	configMaps corelisters.ConfigMapLister
	secrets    corelisters.SecretLister
	runner     *controller.Runner
	synced     []cache.InformerSynced
}

// New builds the controller and registers its handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Controller{cfg: cfg, configMaps: cfg.ConfigMaps.Lister(), secrets: cfg.Secrets.Lister(),
		synced: []cache.InformerSynced{cfg.ConfigMaps.Informer().HasSynced, cfg.Secrets.Informer().HasSynced}}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	cmHandler := c.handler(func(o any) bool {
		cm, ok := o.(*corev1.ConfigMap)
		return ok && cm.Namespace == metav1.NamespacePublic && cm.Name == bootstrapapi.ConfigMapClusterInfo
	})
	secretHandler := c.handler(func(o any) bool {
		s, ok := o.(*corev1.Secret)
		return ok && s.Namespace == metav1.NamespaceSystem && s.Type == bootstrapapi.SecretTypeBootstrapToken
	})
	if _, err := cfg.ConfigMaps.Informer().AddEventHandler(cmHandler); err != nil {
		return nil, fmt.Errorf("%s handlers: %w", Name, err)
	}
	if _, err := cfg.Secrets.Informer().AddEventHandler(secretHandler); err != nil {
		return nil, fmt.Errorf("%s handlers: %w", Name, err)
	}
	return c, nil
}

func (c *Controller) handler(match func(any) bool) cache.ResourceEventHandlerFuncs {
	kick := func(o any) {
		if t, ok := o.(cache.DeletedFinalStateUnknown); ok {
			o = t.Obj
		}
		if match(o) {
			c.runner.Enqueue(key)
		}
	}
	return cache.ResourceEventHandlerFuncs{AddFunc: kick, UpdateFunc: func(_, o any) { kick(o) }, DeleteFunc: kick}
}

// Run runs one worker until ctx ends.
func (c *Controller) Run(ctx context.Context, _ int) {
	c.runner.Run(ctx, 1, c.synced...)
}

func (c *Controller) sync(ctx context.Context, _ string) error {
	cm, err := c.configMaps.ConfigMaps(metav1.NamespacePublic).Get(bootstrapapi.ConfigMapClusterInfo)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	secrets, err := c.secrets.Secrets(metav1.NamespaceSystem).List(labels.Everything())
	if err != nil {
		return err
	}
	want, err := Desired(cm, SigningTokens(secrets, c.cfg.Now()))
	if err != nil || want == nil {
		return err
	}
	_, err = c.cfg.Client.CoreV1().ConfigMaps(metav1.NamespacePublic).Update(ctx, want, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("update %s/%s: %w", metav1.NamespacePublic, bootstrapapi.ConfigMapClusterInfo, err)
	}
	return nil
}

// SigningTokens maps the token ids of the Secrets that may sign to their
// secrets.
func SigningTokens(secrets []*corev1.Secret, now time.Time) map[string]string {
	out := map[string]string{}
	for _, s := range secrets {
		if s.Type != bootstrapapi.SecretTypeBootstrapToken || s.DeletionTimestamp != nil {
			continue
		}
		id := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenIDKey)
		secret := bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenSecretKey)
		nameID, ok := bootstrapsecrets.ParseName(s.Name)
		if !ok || nameID != id || secret == "" || bootstrapsecrets.HasExpired(s, now) ||
			bootstrapsecrets.GetData(s, bootstrapapi.BootstrapTokenUsageSigningKey) != "true" {
			continue
		}
		out[id] = secret
	}
	return out
}

// Desired returns the ConfigMap with exactly one signature per token, or
// nil when it has them already (or holds no kubeconfig to sign).
func Desired(cm *corev1.ConfigMap, tokens map[string]string) (*corev1.ConfigMap, error) {
	content, ok := cm.Data[bootstrapapi.KubeConfigKey]
	if !ok {
		return nil, nil
	}
	data := map[string]string{}
	for k, v := range cm.Data {
		if !strings.HasPrefix(k, bootstrapapi.JWSSignatureKeyPrefix) {
			data[k] = v
		}
	}
	for id, secret := range tokens {
		sig, err := jws.ComputeDetachedSignature(content, id, secret)
		if err != nil {
			return nil, fmt.Errorf("sign with token %s: %w", id, err)
		}
		data[bootstrapapi.JWSSignatureKeyPrefix+id] = sig
	}
	if maps.Equal(data, cm.Data) {
		return nil, nil
	}
	out := cm.DeepCopy()
	out.Data = data
	return out, nil
}
