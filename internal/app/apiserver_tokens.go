package app

import (
	"net"

	"github.com/svcplane/svcplane/internal/apiserver"
	"github.com/svcplane/svcplane/internal/pki"
	"github.com/svcplane/svcplane/internal/satoken"
	"github.com/svcplane/svcplane/internal/storage"
)

// ServiceAccountIssuer is the issuer (and API audience) of service account
// tokens in a cluster of that domain, as kubeadm sets it.
func ServiceAccountIssuer(clusterDomain string) string {
	return "https://kubernetes.default.svc." + clusterDomain
}

// newTokens signs and checks service account tokens with the data
// directory's sa.key, against the objects kept in store.
func newTokens(cfg APIServerConfig, bundle *pki.Bundle, store storage.Store) (*satoken.Tokens, error) {
	return satoken.New(satoken.Config{
		Key:     bundle.ServiceAccountKey,
		Issuer:  ServiceAccountIssuer(cfg.Cluster.ClusterDomain),
		Objects: apiserver.NewObjectReader(store),
	})
}

// kubernetesServiceIP is the first address of the primary service CIDR:
// the kubernetes Service's ClusterIP, which the serving certificate names
// (nil, pki's 10.96.0.1, when no CIDR is configured).
func kubernetesServiceIP(cidrs []string) (net.IP, error) {
	prefixes, err := parseCIDRs(cidrs)
	if err != nil || len(prefixes) == 0 {
		return nil, err
	}
	return net.IP(prefixes[0].Addr().Next().AsSlice()), nil
}
