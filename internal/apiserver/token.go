package apiserver

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/satoken"
)

// TokenIssuer signs the tokens of serviceaccounts/token.
type TokenIssuer interface {
	Issue(satoken.Request) (satoken.Issued, error)
}

var tokenRequestKind = authenticationv1.SchemeGroupVersion.WithKind("TokenRequest")

// serveToken serves POST serviceaccounts/<name>/token: a TokenRequest
// answered with a signed token, as upstream's TokenREST does. Nothing is
// stored.
func (h *resource) serveToken(w http.ResponseWriter, r *http.Request, info requestInfo) {
	if info.Verb != "create" {
		writeError(w, apierrors.NewMethodNotSupported(schema.GroupResource{Resource: "serviceaccounts/token"}, info.Verb))
		return
	}
	if h.srv.cfg.TokenIssuer == nil {
		writeError(w, apierrors.NewServiceUnavailable("service account tokens are not configured"))
		return
	}
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		req := &authenticationv1.TokenRequest{}
		warnings, err := h.decodeBody(r, tokenRequestKind, req, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		out, more, err := h.requestToken(r.Context(), info, req)
		return out, http.StatusCreated, append(warnings, more...), err
	})
}

// requestToken checks a TokenRequest, resolves what it binds to and signs
// its token.
func (h *resource) requestToken(ctx context.Context, info requestInfo, req *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, []string, error) {
	if err := checkTokenRequest(req, info); err != nil {
		return nil, nil, err
	}
	obj, err := h.getObject(ctx, info)
	if err != nil {
		return nil, nil, err
	}
	sa := obj.(*corev1.ServiceAccount)
	binding, err := h.srv.tokenBinding(ctx, info, req.Spec.BoundObjectRef)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	issued, err := h.srv.cfg.TokenIssuer.Issue(satoken.Request{ServiceAccount: sa, Audiences: req.Spec.Audiences,
		ExpirationSeconds: *req.Spec.ExpirationSeconds, Binding: binding})
	if err != nil {
		return nil, nil, apierrors.NewInternalError(err)
	}
	out := req.DeepCopy()
	out.TypeMeta = metav1.TypeMeta{Kind: tokenRequestKind.Kind, APIVersion: tokenRequestKind.GroupVersion().String()}
	out.Name, out.Namespace, out.CreationTimestamp = sa.Name, sa.Namespace, metav1.NewTime(now)
	out.Spec.Audiences, out.Spec.ExpirationSeconds = issued.Audiences, &issued.ExpirationSeconds
	out.Status = authenticationv1.TokenRequestStatus{Token: issued.Token, ExpirationTimestamp: metav1.NewTime(issued.Expiration)}
	return out, issued.Warnings, nil
}

// checkTokenRequest defaults and validates a TokenRequest as upstream
// does: name and namespace, if set, those of the URL; expirationSeconds
// 3600 when unset, at least 10 minutes and at most 2^32 seconds.
func checkTokenRequest(req *authenticationv1.TokenRequest, info requestInfo) error {
	var errs field.ErrorList
	if req.Name != "" && req.Name != info.Name {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), req.Name, "must match the service account name if specified"))
	}
	if req.Namespace != "" && req.Namespace != info.Namespace {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "namespace"), req.Namespace, "must match the service account namespace if specified"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(tokenRequestKind.GroupKind(), info.Name, errs)
	}
	if req.Spec.ExpirationSeconds == nil {
		def := int64(satoken.DefaultExpirationSeconds)
		req.Spec.ExpirationSeconds = &def
	}
	exp, path := *req.Spec.ExpirationSeconds, field.NewPath("spec", "expirationSeconds")
	switch {
	case exp < satoken.MinExpirationSeconds:
		errs = append(errs, field.Invalid(path, exp, "may not specify a duration less than 10 minutes"))
	case exp > math.MaxUint32:
		errs = append(errs, field.Invalid(path, exp, "may not specify a duration larger than 2^32 seconds"))
	}
	if len(errs) > 0 {
		return apierrors.NewInvalid(tokenRequestKind.GroupKind(), "", errs)
	}
	return nil
}

// tokenBinding reads the object a token is to be bound to: a Pod (with
// its Node, by name only if the Node is missing), a Secret or a Node of
// the core group, whose UID must match the reference's if it gives one.
func (s *Server) tokenBinding(ctx context.Context, info requestInfo, ref *authenticationv1.BoundObjectReference) (satoken.Binding, error) {
	var b satoken.Binding
	if ref == nil {
		return b, nil
	}
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	objs := s.cfg.TokenObjects
	var uid string
	switch {
	case gvk.Group == "" && gvk.Kind == "Pod":
		pod, err := objs.Pod(ctx, info.Namespace, ref.Name)
		if err != nil {
			return b, err
		}
		if pod.Spec.ServiceAccountName != info.Name {
			return b, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token for serviceaccount %q to pod running with different serviceaccount name.", info.Name))
		}
		b.Pod, uid = pod, string(pod.UID)
		if n := pod.Spec.NodeName; n != "" {
			if b.Node, err = objs.Node(ctx, n); err != nil {
				b.Node = &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n}}
			}
		}
	case gvk.Group == "" && gvk.Kind == "Secret":
		secret, err := objs.Secret(ctx, info.Namespace, ref.Name)
		if err != nil {
			return b, err
		}
		b.Secret, uid = secret, string(secret.UID)
	case gvk.Group == "" && gvk.Kind == "Node":
		node, err := objs.Node(ctx, ref.Name)
		if err != nil {
			return b, err
		}
		b.Node, uid = node, string(node.UID)
	default:
		return b, apierrors.NewBadRequest(fmt.Sprintf("cannot bind token to object of type %s", gvk.String()))
	}
	if ref.UID != "" && string(ref.UID) != uid {
		return b, apierrors.NewConflict(schema.GroupResource{Group: gvk.Group, Resource: gvk.Kind}, ref.Name,
			fmt.Errorf("the UID in the bound object reference (%s) does not match the UID in record. The object might have been deleted and then recreated", ref.UID))
	}
	return b, nil
}
