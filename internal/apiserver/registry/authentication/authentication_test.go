package authentication

import (
	"context"
	"errors"
	"reflect"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

type fakeTokens map[string]authn.TokenResult

func (f fakeTokens) AuthenticateToken(_ context.Context, token string, auds []string) (authn.TokenResult, error) {
	res, ok := f[token]
	if !ok {
		return res, errors.New("invalid bearer token")
	}
	if len(auds) > 0 {
		res.Audiences = auds
	}
	return res, nil
}

func TestTokenReview(t *testing.T) {
	review := TokenReview(fakeTokens{"good": {User: authn.User{Name: "u", UID: "1", Groups: []string{"g"}}, Audiences: []string{"api"}}})
	for _, tc := range []struct {
		name string
		spec authenticationv1.TokenReviewSpec
		want authenticationv1.TokenReviewStatus
	}{
		{"good", authenticationv1.TokenReviewSpec{Token: "good"}, authenticationv1.TokenReviewStatus{Authenticated: true,
			User: authenticationv1.UserInfo{Username: "u", UID: "1", Groups: []string{"g", "system:authenticated"}}}},
		{"audiences echoed when asked", authenticationv1.TokenReviewSpec{Token: "good", Audiences: []string{"vault"}},
			authenticationv1.TokenReviewStatus{Authenticated: true, Audiences: []string{"vault"},
				User: authenticationv1.UserInfo{Username: "u", UID: "1", Groups: []string{"g", "system:authenticated"}}}},
		{"bad", authenticationv1.TokenReviewSpec{Token: "bad"}, authenticationv1.TokenReviewStatus{Error: "invalid bearer token"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := review(context.Background(), &authenticationv1.TokenReview{Spec: tc.spec})
			if err != nil {
				t.Fatal(err)
			}
			if got := out.(*authenticationv1.TokenReview).Status; !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("status %+v\nwant %+v", got, tc.want)
			}
		})
	}
	_, err := review(context.Background(), &authenticationv1.TokenReview{})
	if !apierrors.IsBadRequest(err) {
		t.Fatalf("empty token: %v", err)
	}
}

func TestSelfSubjectReview(t *testing.T) {
	u := authn.User{Name: "admin", Groups: []string{"system:masters"}, Extra: map[string][]string{"k": {"v"}}}
	out, err := SelfSubjectReview(authn.WithUser(context.Background(), u), &authenticationv1.SelfSubjectReview{})
	if err != nil {
		t.Fatal(err)
	}
	want := authenticationv1.UserInfo{Username: "admin", Groups: []string{"system:masters"}, Extra: map[string]authenticationv1.ExtraValue{"k": {"v"}}}
	if got := out.(*authenticationv1.SelfSubjectReview).Status.UserInfo; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	out, _ = SelfSubjectReview(context.Background(), &authenticationv1.SelfSubjectReview{})
	if got := out.(*authenticationv1.SelfSubjectReview).Status.UserInfo; got.Username != "system:anonymous" {
		t.Fatalf("anonymous: %+v", got)
	}
}
