// Package authentication answers the authentication.k8s.io/v1 reviews,
// which are created, answered and never stored: TokenReview (is this
// bearer token good, and whose is it) and SelfSubjectReview (who am I,
// as `kubectl auth whoami` asks).
package authentication

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

// TokenReview returns the Review of tokenreviews: it checks spec.token
// for spec.audiences (the API server's if none) with tokens, which may be
// nil (then no token is authenticated).
func TokenReview(tokens authn.TokenAuthenticator) func(context.Context, runtime.Object) (runtime.Object, error) {
	return func(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
		tr, ok := obj.(*authenticationv1.TokenReview)
		if !ok {
			return nil, fmt.Errorf("tokenreviews: got a %T", obj)
		}
		if tr.Spec.Token == "" {
			return nil, apierrors.NewBadRequest("token is required for TokenReview in authentication")
		}
		tr.Status = authenticationv1.TokenReviewStatus{}
		if tokens == nil {
			return tr, nil
		}
		res, err := tokens.AuthenticateToken(ctx, tr.Spec.Token, tr.Spec.Audiences)
		if err != nil {
			tr.Status.Error = err.Error()
			return tr, nil
		}
		tr.Status.Authenticated = true
		tr.Status.User = userInfo(res.User.WithAuthenticatedGroup())
		if len(tr.Spec.Audiences) > 0 {
			tr.Status.Audiences = res.Audiences
		}
		return tr, nil
	}
}

// SelfSubjectReview answers selfsubjectreviews with the request's user.
func SelfSubjectReview(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	ssr, ok := obj.(*authenticationv1.SelfSubjectReview)
	if !ok {
		return nil, fmt.Errorf("selfsubjectreviews: got a %T", obj)
	}
	u, ok := authn.UserFrom(ctx)
	if !ok {
		u = authn.Anonymous()
	}
	ssr.Status = authenticationv1.SelfSubjectReviewStatus{UserInfo: userInfo(u)}
	return ssr, nil
}

func userInfo(u authn.User) authenticationv1.UserInfo {
	out := authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups}
	if len(u.Extra) > 0 {
		out.Extra = map[string]authenticationv1.ExtraValue{}
		for k, v := range u.Extra {
			out.Extra[k] = v
		}
	}
	return out
}
