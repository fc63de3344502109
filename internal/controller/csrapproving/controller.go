// Package csrapproving is kube-controller-manager's csrapproving
// controller: it approves node client certificate requests
// (kubernetes.io/kube-apiserver-client-kubelet, a valid kubelet client
// request) when a SubjectAccessReview says their requestor may create
// certificatesigningrequests/selfnodeclient (renewing its own
// certificate) or /nodeclient (a first certificate, as a bootstrapper),
// with condition Approved, reason AutoApproved. Unlike upstream's, it
// also approves a node's serving request (kubernetes.io/kubelet-serving)
// made by that node whose SANs are its Node's own addresses (serving.go).
// Everything else waits for `kubectl certificate approve`.
package csrapproving

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certinformers "k8s.io/client-go/informers/certificates/v1"
	coreinformers "k8s.io/client-go/informers/core/v1"
	"k8s.io/client-go/kubernetes"
	certlisters "k8s.io/client-go/listers/certificates/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
	"github.com/svcplane/svcplane/internal/controller/csrsigning"
)

// Name is the controller's name.
const Name = "csrapproving"

// Recognizer is one kind of request the controller may approve, and the
// permission its requestor must hold.
type Recognizer struct {
	Recognize   func(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) bool
	Subresource string
	Message     string
}

// Recognizers are upstream's, in upstream's order.
func Recognizers() []Recognizer {
	return []Recognizer{
		{Recognize: isSelfNodeClient, Subresource: "selfnodeclient",
			Message: "Auto approving self kubelet client certificate after SubjectAccessReview."},
		{Recognize: isNodeClient, Subresource: "nodeclient",
			Message: "Auto approving kubelet client certificate after SubjectAccessReview."},
	}
}

func isNodeClient(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) bool {
	return csr.Spec.SignerName == certificatesv1.KubeAPIServerClientKubeletSignerName &&
		csrsigning.ValidateKubeletClient(req, csr.Spec.Usages) == nil
}

func isSelfNodeClient(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) bool {
	return csr.Spec.Username == req.Subject.CommonName && isNodeClient(csr, req)
}

// Config configures the controller.
type Config struct {
	Client kubernetes.Interface
	CSRs   certinformers.CertificateSigningRequestInformer
	// Nodes, when set, lets the controller approve node serving requests
	// (see DecideServing).
	Nodes  coreinformers.NodeInformer
	Logger *slog.Logger
}

// Controller approves node client requests.
type Controller struct {
	cfg    Config
	lister certlisters.CertificateSigningRequestLister
	nodes  corelisters.NodeLister
	runner *controller.Runner
	synced cache.InformerSynced
}

// New builds the controller and registers its handlers.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Controller{cfg: cfg, lister: cfg.CSRs.Lister(), synced: cfg.CSRs.Informer().HasSynced}
	if cfg.Nodes != nil {
		c.nodes = cfg.Nodes.Lister()
		csrSynced, nodesSynced := c.synced, cfg.Nodes.Informer().HasSynced
		c.synced = func() bool { return csrSynced() && nodesSynced() }
	}
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
	out, err := Decide(ctx, csr, Recognizers(), c.review)
	if errors.Is(err, ErrNotPermitted) {
		c.cfg.Logger.Debug("not approved", "csr", name, "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	if out == nil {
		if out, err = c.decideServing(csr); out == nil || err != nil {
			return err
		}
	}
	_, err = c.cfg.Client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, out.Name, out, metav1.UpdateOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("error updating approval for csr: %w", err)
	}
	return nil
}

// ErrNotPermitted says a request was recognized but its requestor lacks
// the permission (it is left for a person to decide).
var ErrNotPermitted = errors.New("subject access review was not approved")

// ReviewFunc asks whether the request's requestor may create
// certificatesigningrequests/<subresource>.
type ReviewFunc func(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, subresource string) (bool, error)

// Decide returns the request approved by the first recognizer that
// matches and whose permission review allows it; nil when there is
// nothing to do (issued, already decided, not a node client request).
func Decide(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, rs []Recognizer, review ReviewFunc) (*certificatesv1.CertificateSigningRequest, error) {
	if len(csr.Status.Certificate) > 0 || decided(csr) {
		return nil, nil
	}
	req, err := csrsigning.ParseRequest(csr.Spec.Request)
	if err != nil {
		return nil, fmt.Errorf("unable to parse csr %q: %w", csr.Name, err)
	}
	var tried []string
	for _, r := range rs {
		if !r.Recognize(csr, req) {
			continue
		}
		tried = append(tried, r.Subresource)
		ok, err := review(ctx, csr, r.Subresource)
		if err != nil {
			return nil, err
		}
		if ok {
			out := csr.DeepCopy()
			out.Status.Conditions = append(out.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
				Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: r.Message,
			})
			return out, nil
		}
	}
	if len(tried) > 0 {
		return nil, fmt.Errorf("recognized csr %q as %v but %w", csr.Name, tried, ErrNotPermitted)
	}
	return nil, nil
}

// decideServing approves a node serving request whose SANs are its
// Node's addresses; a Node not known yet is an error (tried again later).
func (c *Controller) decideServing(csr *certificatesv1.CertificateSigningRequest) (*certificatesv1.CertificateSigningRequest, error) {
	if c.nodes == nil || len(csr.Status.Certificate) > 0 || decided(csr) {
		return nil, nil
	}
	req, err := csrsigning.ParseRequest(csr.Spec.Request)
	if err != nil {
		return nil, nil // Decide reported it
	}
	name := ServingNode(csr, req)
	if name == "" {
		return nil, nil
	}
	node, err := c.nodes.Get(name)
	if apierrors.IsNotFound(err) || (err == nil && len(node.Status.Addresses) == 0) {
		// A Node is registered before its status reports addresses.
		return nil, fmt.Errorf("serving csr %q: %w: %s", csr.Name, ErrNodeUnknown, name)
	}
	if err != nil {
		return nil, err
	}
	out, err := DecideServing(csr, req, node)
	if err != nil {
		c.cfg.Logger.Info("node serving request left for a person", "csr", csr.Name, "reason", err)
		return nil, nil
	}
	return out, nil
}

func decided(csr *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved || c.Type == certificatesv1.CertificateDenied {
			return true
		}
	}
	return false
}

// review posts a SubjectAccessReview for the request's requestor.
func (c *Controller) review(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, sub string) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range csr.Spec.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Group: certificatesv1.GroupName, Version: "*",
			Resource: "certificatesigningrequests", Subresource: sub, Verb: "create"},
	}}
	out, err := c.cfg.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("subject access review: %w", err)
	}
	return out.Status.Allowed, nil
}
