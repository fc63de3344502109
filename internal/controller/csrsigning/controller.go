// Package csrsigning is kube-controller-manager's csrsigning controller:
// it issues the certificates of approved CertificateSigningRequests for
// the kubernetes.io signers it serves (kube-apiserver-client-kubelet,
// kube-apiserver-client, kubelet-serving) with the cluster CA, for
// spec.expirationSeconds clamped to [10m, the signing duration]. A request
// its signer's rules refuse gets a Failed condition (reason
// SignerValidationFailure) instead. Requests for legacy-unknown cannot be
// created through certificates.k8s.io/v1, as upstream.
package csrsigning

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "csrsigning"

// Config configures the controller.
type Config struct {
	Client kubernetes.Interface
	CSRs   certinformers.CertificateSigningRequestInformer
	CA     CA
	// Duration is the longest certificate issued (DefaultDuration if 0).
	Duration time.Duration
	// Now is the clock (time.Now if nil).
	Now    func() time.Time
	Logger *slog.Logger
}

// Controller signs approved requests.
type Controller struct {
	cfg    Config
	lister certlisters.CertificateSigningRequestLister
	runner *controller.Runner
	synced cache.InformerSynced
}

// New builds the controller and registers its handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.CA.Cert == nil || cfg.CA.Key == nil {
		return nil, fmt.Errorf("%s: no signing CA", Name)
	}
	if cfg.Duration == 0 {
		cfg.Duration = DefaultDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Controller{cfg: cfg, lister: cfg.CSRs.Lister(), synced: cfg.CSRs.Informer().HasSynced}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	h := c.runner.ObjectHandlers()
	h.DeleteFunc = nil
	if _, err := cfg.CSRs.Informer().AddEventHandler(h); err != nil {
		return nil, fmt.Errorf("%s handlers: %w", Name, err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced)
}

func (c *Controller) sync(ctx context.Context, name string) error {
	csr, err := c.lister.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	out, err := Handle(csr, c.cfg.CA, c.cfg.Duration, c.cfg.Now())
	if err != nil || out == nil {
		return err
	}
	_, err = c.cfg.Client.CertificatesV1().CertificateSigningRequests().UpdateStatus(ctx, out, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("update status of csr %s: %w", name, err)
	}
	return nil
}

// Handle decides what becomes of one request: nil when there is nothing
// to do (not approved, failed, issued, or another signer's), else the
// request with its certificate or a Failed condition.
func Handle(csr *certificatesv1.CertificateSigningRequest, ca CA, max time.Duration, now time.Time) (*certificatesv1.CertificateSigningRequest, error) {
	if len(csr.Status.Certificate) > 0 || !approved(csr) || hasTrue(csr, certificatesv1.CertificateFailed) {
		return nil, nil
	}
	req, err := ParseRequest(csr.Spec.Request)
	if err != nil {
		return nil, fmt.Errorf("unable to parse csr %q: %w", csr.Name, err)
	}
	known, verr := Validate(csr.Spec.SignerName, req, csr.Spec.Usages)
	if !known {
		return nil, nil
	}
	out := csr.DeepCopy()
	if verr != nil {
		out.Status.Conditions = append(out.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateFailed, Status: corev1.ConditionTrue, Reason: "SignerValidationFailure",
			Message: verr.Error(), LastUpdateTime: metav1.NewTime(now),
		})
		return out, nil
	}
	cert, err := Sign(ca, req, csr.Spec.Usages, Duration(csr.Spec.ExpirationSeconds, max), now)
	if err != nil {
		return nil, fmt.Errorf("error auto signing csr: %w", err)
	}
	out.Status.Certificate = cert
	return out, nil
}

// approved says the request is Approved and not Denied.
func approved(csr *certificatesv1.CertificateSigningRequest) bool {
	ok := false
	for _, c := range csr.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateDenied:
			return false
		case certificatesv1.CertificateApproved:
			ok = true
		}
	}
	return ok
}

func hasTrue(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
