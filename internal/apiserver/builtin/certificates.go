package builtin

import (
	certificatesv1 "k8s.io/api/certificates/v1"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/certificatesigningrequest"
)

// certificateResources are certificates.k8s.io/v1's
// CertificateSigningRequests, with their approval and status subresources.
func certificateResources() []*registry.Resource {
	return []*registry.Resource{
		{GroupVersion: certificatesv1.SchemeGroupVersion, Name: "certificatesigningrequests", Singular: "certificatesigningrequest",
			Kind: "CertificateSigningRequest", ListKind: "CertificateSigningRequestList",
			ShortNames: []string{"csr"}, Subresources: []string{"approval", "status"},
			ValidateName:       func(string, bool) []string { return nil },
			SubresourceUpdates: map[string]registry.SubresourceUpdate{"approval": certificatesigningrequest.Approval()},
			New:                newOf[certificatesv1.CertificateSigningRequest], NewList: newOf[certificatesv1.CertificateSigningRequestList],
			Strategy: certificatesigningrequest.Strategy()},
	}
}
