package apiserver

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/authz"
)

var csrResource = schema.GroupResource{Group: certificatesv1.GroupName, Resource: "certificatesigningrequests"}

// admitCertificates is upstream's CertificateApproval and
// CertificateSigning admission: an update of a request's approval needs
// the "approve" verb on its signer, one that changes its certificate the
// "sign" verb (resource certificates.k8s.io signers, named by the signer
// or by <domain>/*).
func (s *Server) admitCertificates(ctx context.Context, u authz.User, gr schema.GroupResource, sub string, obj, old runtime.Object) error {
	if gr != csrResource || (sub != "approval" && sub != "status") {
		return nil
	}
	csr, ok := obj.(*certificatesv1.CertificateSigningRequest)
	if !ok {
		return nil
	}
	verb := "approve"
	if sub == "status" {
		verb = "sign"
		if o, ok := old.(*certificatesv1.CertificateSigningRequest); ok && bytes.Equal(o.Status.Certificate, csr.Status.Certificate) {
			return nil
		}
	}
	if s.allowedForSigner(ctx, u, verb, csr.Spec.SignerName) {
		return nil
	}
	return apierrors.NewForbidden(gr, csr.Name, fmt.Errorf("user not permitted to %s requests with signerName %q", verb, csr.Spec.SignerName))
}

// allowedForSigner asks for verb on the signer, then on its domain's
// wildcard, as upstream's IsAuthorizedForSignerName.
func (s *Server) allowedForSigner(ctx context.Context, u authz.User, verb, signer string) bool {
	domain, _, _ := strings.Cut(signer, "/")
	for _, name := range []string{signer, domain + "/*"} {
		d, _, err := s.authz.chain.Authorize(ctx, authz.Attributes{User: u, Verb: verb, ResourceRequest: true,
			APIGroup: certificatesv1.GroupName, APIVersion: "*", Resource: "signers", Name: name})
		if err == nil && d == authz.Allow {
			return true
		}
	}
	return false
}
