// Package join is what `svcplane join` does before it runs a node, as
// kubeadm join and the kubelet's TLS bootstrap do it: token discovery of
// the cluster (the kube-public/cluster-info ConfigMap read without
// credentials, its JWS signature checked with the bootstrap token and its
// CA checked against a pinned public key hash), then a node client
// certificate obtained through a CertificateSigningRequest made with the
// bootstrap token.
package join

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/svcplane/svcplane/internal/bootstraptoken"
)

// Cluster is what discovery learns: the API server's URL and the CA that
// signs its certificate.
type Cluster struct {
	Server string
	CAPEM  []byte
}

// DiscoveryConfig says how to find the cluster.
type DiscoveryConfig struct {
	// Server is where to ask, https://host:port.
	Server string
	// Token is the bootstrap token, <id>.<secret>.
	Token string
	// CAHashes are the accepted "sha256:<hex>" pins of the CA's public
	// key; empty only with UnsafeSkipCAVerification.
	CAHashes                 []string
	UnsafeSkipCAVerification bool
	// Timeout bounds the wait for a signed ConfigMap (5 min if 0).
	Timeout time.Duration
}

// Discover reads and checks the cluster-info ConfigMap as kubeadm's token
// discovery: fetched over TLS without verification until it is signed
// for the token, the signature checked, the CA checked against the pins,
// then fetched again trusting that CA and required to be the same.
func Discover(ctx context.Context, cfg DiscoveryConfig) (Cluster, error) {
	id, secret, ok := bootstraptoken.Parse(cfg.Token)
	if !ok {
		return Cluster{}, errors.New("the token does not match the format [a-z0-9]{6}.[a-z0-9]{16}")
	}
	if len(cfg.CAHashes) == 0 && !cfg.UnsafeSkipCAVerification {
		return Cluster{}, errors.New("give --discovery-token-ca-cert-hash (or --discovery-token-unsafe-skip-ca-verification)")
	}
	insecure := &rest.Config{Host: cfg.Server, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second}
	cm, err := waitSigned(ctx, insecure, id, cfg.Timeout)
	if err != nil {
		return Cluster{}, err
	}
	content := cm.Data[bootstrapapi.KubeConfigKey]
	if !jws.DetachedTokenIsValid(cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id], content, id, secret) {
		return Cluster{}, fmt.Errorf("failed to verify JWS signature of received cluster info object, can't trust this API Server")
	}
	cluster, err := parseClusterInfo(content)
	if err != nil {
		return Cluster{}, err
	}
	if !cfg.UnsafeSkipCAVerification {
		if err := checkPins(cluster.CAPEM, cfg.CAHashes); err != nil {
			return Cluster{}, err
		}
	}
	return cluster, confirm(ctx, cfg.Server, cluster.CAPEM, content)
}

// waitSigned polls cluster-info until it holds the token's signature.
func waitSigned(ctx context.Context, rc *rest.Config, id string, timeout time.Duration) (*corev1.ConfigMap, error) {
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, err
	}
	if timeout == 0 {
		timeout = 5 * time.Minute
	}
	var cm *corev1.ConfigMap
	var last error
	err = wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		cm, last = client.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
		if last != nil {
			return false, nil
		}
		if _, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id]; !ok {
			last = fmt.Errorf("there is no JWS signed token in the cluster-info ConfigMap for token ID %q", id)
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("read %s/%s from %s: %w (last: %v)", metav1.NamespacePublic, bootstrapapi.ConfigMapClusterInfo, rc.Host, err, last)
	}
	return cm, nil
}

// parseClusterInfo reads the one cluster of the kubeconfig.
func parseClusterInfo(content string) (Cluster, error) {
	kc, err := clientcmd.Load([]byte(content))
	if err != nil {
		return Cluster{}, fmt.Errorf("parse cluster-info kubeconfig: %w", err)
	}
	for _, c := range kc.Clusters {
		if len(c.CertificateAuthorityData) == 0 {
			return Cluster{}, errors.New("the cluster-info kubeconfig holds no CA")
		}
		return Cluster{Server: c.Server, CAPEM: c.CertificateAuthorityData}, nil
	}
	return Cluster{}, errors.New("the cluster-info kubeconfig names no cluster")
}

// checkPins requires a CA certificate whose public key hash is pinned.
func checkPins(caPEM []byte, pins []string) error {
	certs, err := certutil.ParseCertsPEM(caPEM)
	if err != nil {
		return fmt.Errorf("parse the cluster CA: %w", err)
	}
	for _, p := range pins {
		if !strings.HasPrefix(p, "sha256:") {
			return fmt.Errorf("unsupported hash format %q: only sha256:<hex> is accepted", p)
		}
	}
	var seen []string
	for _, c := range certs {
		h := bootstraptoken.CACertHash(c)
		if slices.Contains(pins, h) {
			return nil
		}
		seen = append(seen, h)
	}
	return fmt.Errorf("cluster CA found in cluster-info ConfigMap is invalid: none of the public keys %v are pinned", seen)
}

// confirm fetches cluster-info again, now trusting the CA, and requires
// the same kubeconfig.
func confirm(ctx context.Context, server string, caPEM []byte, content string) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return errors.New("the cluster CA holds no certificate")
	}
	rc := &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CAData: caPEM}, Timeout: 10 * time.Second}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read cluster-info trusting the pinned CA: %w", err)
	}
	if cm.Data[bootstrapapi.KubeConfigKey] != content {
		return errors.New("cluster info changed between the unverified and the verified read; can't trust this API server")
	}
	return nil
}
