// Package authn says who a request comes from: the user the API server
// authenticated (client certificate or bearer token), carried in the
// request's context for authorization, the review APIs and audit.
package authn

import (
	"context"
	"slices"
)

// Well-known groups and extra keys, as upstream names them.
const (
	// AuthenticatedGroup is added to every authenticated user.
	AuthenticatedGroup = "system:authenticated"
	// AnonymousUser and UnauthenticatedGroup name requests without
	// credentials.
	AnonymousUser        = "system:anonymous"
	UnauthenticatedGroup = "system:unauthenticated"

	// ExtraCredentialID identifies the credential a request used:
	// JTI=<jti> for a bound token, X509SHA256=<hex> for a certificate.
	ExtraCredentialID = "authentication.kubernetes.io/credential-id"
	// ExtraPodName and ExtraPodUID name the pod a token is bound to;
	// ExtraNodeName and ExtraNodeUID the node of that pod (or the node a
	// token is bound to).
	ExtraPodName  = "authentication.kubernetes.io/pod-name"
	ExtraPodUID   = "authentication.kubernetes.io/pod-uid"
	ExtraNodeName = "authentication.kubernetes.io/node-name"
	ExtraNodeUID  = "authentication.kubernetes.io/node-uid"
)

// User is an authenticated identity: what authorization decides on and
// what `kubectl auth whoami` shows.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// WithAuthenticatedGroup returns u with system:authenticated appended to
// its groups unless it is there already, as upstream's group adder does
// for every authenticated user.
func (u User) WithAuthenticatedGroup() User {
	if !slices.Contains(u.Groups, AuthenticatedGroup) {
		u.Groups = append(slices.Clip(u.Groups), AuthenticatedGroup)
	}
	return u
}

// Anonymous is the user of a request without credentials.
func Anonymous() User {
	return User{Name: AnonymousUser, Groups: []string{UnauthenticatedGroup}}
}

type userKey struct{}

// WithUser returns ctx carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user ctx carries.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}

// TokenResult is a bearer token's user and the audiences it was accepted
// for (those of the token that the caller asked for).
type TokenResult struct {
	User      User
	Audiences []string
}

// TokenAuthenticator checks bearer tokens. audiences are the ones the
// caller accepts; empty means the API server's own.
type TokenAuthenticator interface {
	AuthenticateToken(ctx context.Context, token string, audiences []string) (TokenResult, error)
}
