// Package serviceaccount holds the write rules of core/v1 ServiceAccounts.
// As upstream, a ServiceAccount has nothing to check beyond its metadata
// (which the REST layer checks): secrets and imagePullSecrets are plain
// references, resolved by their users.
package serviceaccount

import (
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Strategy returns the ServiceAccount strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.ServiceAccount]{}
}
