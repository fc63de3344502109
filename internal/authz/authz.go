// Package authz decides whether a request may proceed: the attributes of a
// request (who, verb, what), the Authorizer interface every mode
// implements, the chain of modes (first Allow or Deny wins, as upstream's
// union authorizer), the system:masters superuser rule, and the text of a
// 403 as kube-apiserver writes it.
//
// The modes themselves live in subpackages: rbac (Roles and bindings) and
// node (the Node authorizer).
package authz

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Well-known users and groups.
const (
	GroupMasters         = "system:masters"
	GroupNodes           = "system:nodes"
	GroupAuthenticated   = "system:authenticated"
	GroupUnauthenticated = "system:unauthenticated"
	UserAnonymous        = "system:anonymous"
	NodeUserPrefix       = "system:node:"
	ServiceAccountPrefix = "system:serviceaccount:"
)

// User is who a request acts as.
type User struct {
	Name   string
	UID    string
	Groups []string
	Extra  map[string][]string
}

// InGroup says whether the user is a member of group.
func (u User) InGroup(group string) bool { return slices.Contains(u.Groups, group) }

// Attributes describe one request as authorizers see it.
type Attributes struct {
	User User
	Verb string
	// ResourceRequest is true for /api and /apis resource paths; the
	// others are non-resource requests identified by Path.
	ResourceRequest bool
	Namespace       string
	APIGroup        string
	APIVersion      string
	Resource        string
	Subresource     string
	Name            string
	Path            string
	// FieldSelector is the request's field selector (list/watch), which
	// the Node authorizer reads for spec.nodeName.
	FieldSelector string
}

// Decision is an authorizer's answer.
type Decision int

const (
	// NoOpinion lets the next authorizer decide; at the end of the chain
	// it is a denial.
	NoOpinion Decision = iota
	Allow
	Deny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case Deny:
		return "deny"
	}
	return "no opinion"
}

// Authorizer decides one request. reason says why (shown in a 403 when it
// is not empty).
type Authorizer interface {
	Authorize(ctx context.Context, a Attributes) (Decision, string, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, a Attributes) (Decision, string, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	return f(ctx, a)
}

// Chain asks each authorizer in turn; the first Allow or Deny wins. The
// reasons of the others are joined with newlines, and errors are joined
// too, as upstream's union authorizer does.
type Chain []Authorizer

// Authorize implements Authorizer.
func (c Chain) Authorize(ctx context.Context, a Attributes) (Decision, string, error) {
	var reasons []string
	var errs []string
	for _, az := range c {
		d, reason, err := az.Authorize(ctx, a)
		if err != nil {
			errs = append(errs, err.Error())
		}
		if reason != "" {
			reasons = append(reasons, reason)
		}
		if d != NoOpinion {
			return d, reason, nil
		}
	}
	var err error
	if len(errs) > 0 {
		err = fmt.Errorf("[%s]", strings.Join(errs, ", "))
	}
	return NoOpinion, strings.Join(reasons, "\n"), err
}

// Superuser allows every request of a member of system:masters, as
// upstream's privileged-group authorizer does; it has no opinion on others.
func Superuser() Authorizer {
	return AuthorizerFunc(func(_ context.Context, a Attributes) (Decision, string, error) {
		if a.User.InGroup(GroupMasters) {
			return Allow, "", nil
		}
		return NoOpinion, "", nil
	})
}
