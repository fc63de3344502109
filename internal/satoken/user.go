package satoken

import (
	"fmt"
	"strings"

	"github.com/svcplane/svcplane/internal/apiserver/authn"
)

// Names of service account users and groups, as upstream makes them.
const (
	userPrefix = "system:serviceaccount:"
	// AllGroup holds every service account.
	AllGroup = "system:serviceaccounts"
)

// Username is the user name of service account name in namespace ns.
func Username(ns, name string) string {
	return userPrefix + ns + ":" + name
}

// SplitUsername returns the namespace and name of a service account user
// name; ok is false for other users.
func SplitUsername(user string) (ns, name string, ok bool) {
	rest, found := strings.CutPrefix(user, userPrefix)
	if !found {
		return "", "", false
	}
	ns, name, ok = strings.Cut(rest, ":")
	return ns, name, ok && ns != "" && name != "" && !strings.Contains(name, ":")
}

// Groups are the groups of the service accounts of namespace ns.
func Groups(ns string) []string {
	return []string{AllGroup, fmt.Sprintf("%s:%s", AllGroup, ns)}
}

// userOf is the user a validated token authenticates as.
func userOf(pub claimsView) authn.User {
	k := pub.private.Kubernetes
	u := authn.User{
		Name:   Username(k.Namespace, k.Svcacct.Name),
		UID:    k.Svcacct.UID,
		Groups: Groups(k.Namespace),
	}
	extra := map[string][]string{}
	if k.Pod != nil && k.Pod.Name != "" && k.Pod.UID != "" {
		extra[authn.ExtraPodName] = []string{k.Pod.Name}
		extra[authn.ExtraPodUID] = []string{k.Pod.UID}
	}
	if pub.public.ID != "" {
		extra[authn.ExtraCredentialID] = []string{"JTI=" + pub.public.ID}
	}
	if k.Node != nil && k.Node.Name != "" {
		extra[authn.ExtraNodeName] = []string{k.Node.Name}
		if k.Node.UID != "" {
			extra[authn.ExtraNodeUID] = []string{k.Node.UID}
		}
	}
	if len(extra) > 0 {
		u.Extra = extra
	}
	return u
}
