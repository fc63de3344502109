// Package certificatesigningrequest holds the write rules of
// certificates.k8s.io/v1 CertificateSigningRequests: upstream's validation
// texts and field paths, the requestor stamped from the authenticated user
// on create, and the three update paths (main, status, approval), each of
// which may change only its own part.
package certificatesigningrequest

import (
	"context"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

type csr = certificatesv1.CertificateSigningRequest

// Strategy returns the CSR strategy of the main resource and status.
func Strategy() registry.Strategy {
	return registry.Typed[*csr]{
		PrepareForCreateFunc:       PrepareForCreate,
		PrepareForUpdateFunc:       prepareForUpdate,
		PrepareForStatusUpdateFunc: prepareForStatusUpdate,
		ValidateFunc: func(_ context.Context, c *csr) field.ErrorList {
			return validate(c, options{})
		},
		ValidateUpdateFunc: func(_ context.Context, c, old *csr) field.ErrorList {
			return validateUpdate(c, old, options{})
		},
		ValidateStatusUpdateFunc: func(_ context.Context, c, old *csr) field.ErrorList {
			return validateUpdate(c, old, options{settingCertificate: true})
		},
	}
}

// Approval returns the rules of the approval subresource, which changes
// the conditions only.
func Approval() registry.SubresourceUpdate {
	return registry.SubresourceUpdate{
		Prepare: func(_ context.Context, obj, old runtime.Object) {
			c, o := obj.(*csr), old.(*csr)
			conds := c.Status.Conditions
			c.Spec, c.Status = o.Spec, o.Status
			c.Status.Conditions = conds
			stampConditions(c, o, time.Now())
		},
		Validate: func(_ context.Context, obj, old runtime.Object) field.ErrorList {
			return validateUpdate(obj.(*csr), old.(*csr), options{settingApproval: true})
		},
	}
}

// PrepareForCreate clears the status (nobody creates a pre-approved
// request) and records who asks, from the authenticated user.
func PrepareForCreate(ctx context.Context, c *csr) {
	c.Status = certificatesv1.CertificateSigningRequestStatus{}
	c.Spec.Username, c.Spec.UID, c.Spec.Groups, c.Spec.Extra = "", "", nil, nil
	u, ok := authn.UserFrom(ctx)
	if !ok {
		return
	}
	c.Spec.Username, c.Spec.UID = u.Name, u.UID
	c.Spec.Groups = append([]string(nil), u.Groups...)
	if len(u.Extra) > 0 {
		c.Spec.Extra = map[string]certificatesv1.ExtraValue{}
		for k, v := range u.Extra {
			c.Spec.Extra[k] = append(certificatesv1.ExtraValue(nil), v...)
		}
	}
}

// prepareForUpdate keeps spec and status: the main resource changes
// metadata only.
func prepareForUpdate(_ context.Context, c, old *csr) {
	c.Spec, c.Status = old.Spec, old.Status
}

// prepareForStatusUpdate keeps the spec and the Approved and Denied
// conditions, which only the approval subresource changes.
func prepareForStatusUpdate(_ context.Context, c, old *csr) {
	c.Spec = old.Spec
	var conds []certificatesv1.CertificateSigningRequestCondition
	for _, cond := range c.Status.Conditions {
		if !isApproval(cond.Type) {
			conds = append(conds, cond)
		}
	}
	for _, cond := range old.Status.Conditions {
		if isApproval(cond.Type) {
			conds = append(conds, cond)
		}
	}
	c.Status.Conditions = conds
	stampConditions(c, old, time.Now())
}

func isApproval(t certificatesv1.RequestConditionType) bool {
	return t == certificatesv1.CertificateApproved || t == certificatesv1.CertificateDenied
}

// stampConditions fills unset condition times as upstream does: update
// time now, transition time kept from the old condition of the same type
// and status, else now.
func stampConditions(c, old *csr, now time.Time) {
	t := metav1.NewTime(now.Truncate(time.Second))
	for i := range c.Status.Conditions {
		cond := &c.Status.Conditions[i]
		if cond.LastUpdateTime.IsZero() {
			cond.LastUpdateTime = t
		}
		if !cond.LastTransitionTime.IsZero() {
			continue
		}
		cond.LastTransitionTime = t
		for _, oc := range old.Status.Conditions {
			if oc.Type == cond.Type && oc.Status == cond.Status && !oc.LastTransitionTime.IsZero() {
				cond.LastTransitionTime = oc.LastTransitionTime
			}
		}
	}
}
