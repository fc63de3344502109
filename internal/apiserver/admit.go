package apiserver

import (
	"context"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/authz/node"
)

// admitWrite runs the write admission that depends on who writes:
// NodeRestriction, CertificateApproval and CertificateSigning. obj is the new state (nil on delete), old the stored
// one (nil on create). It runs before validation and storage, so a refused
// write changes nothing.
func (h *resource) admitWrite(ctx context.Context, op, sub string, obj, old runtime.Object) error {
	if h.srv.authz == nil {
		return nil
	}
	u, ok := UserFrom(ctx)
	if !ok {
		return nil
	}
	m := obj
	if m == nil {
		m = old
	}
	meta := accessor(m)
	err := node.Restrict(node.Write{
		User: authzUser(u), Operation: op, Resource: h.def.GroupResource(), Subresource: sub,
		Namespace: meta.GetNamespace(), Name: meta.GetName(), Object: obj, Old: old,
	})
	if err != nil {
		return err
	}
	return h.srv.admitCertificates(ctx, authzUser(u), h.def.GroupResource(), sub, obj, old)
}
