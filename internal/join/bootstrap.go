package join

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/certificate/csr"
)

// Node user and group, as the kubelet's client certificate names them.
const (
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// Credentials are a node's client certificate and key (PEM).
type Credentials struct {
	CertPEM, KeyPEM []byte
}

// RequestNodeCertificate obtains the client certificate of node name as
// the kubelet's TLS bootstrap does: a new P-256 key, a request for
// CN system:node:<name>, O system:nodes, usages digital signature and
// client auth, to signer kube-apiserver-client-kubelet, made with the
// bootstrap token; then it waits until the request is approved and
// issued (denied or failed is an error).
func RequestNodeCertificate(ctx context.Context, cluster Cluster, token, name string, timeout time.Duration) (Credentials, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Credentials{}, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: NodeUserPrefix + name, Organization: []string{NodesGroup}}}, key)
	if err != nil {
		return Credentials{}, fmt.Errorf("certificate request: %w", err)
	}
	client, err := kubernetes.NewForConfig(&rest.Config{Host: cluster.Server, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cluster.CAPEM}, UserAgent: "svcplane-join"})
	if err != nil {
		return Credentials{}, err
	}
	reqPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
	usages := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth}
	reqName, uid, err := csr.RequestCertificateWithContext(ctx, client, reqPEM, "", certificatesv1.KubeAPIServerClientKubeletSignerName, nil, usages, key)
	if err != nil {
		return Credentials{}, fmt.Errorf("create the certificate signing request: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	certPEM, err := csr.WaitForCertificate(wctx, client, reqName, uid)
	if err != nil {
		return Credentials{}, fmt.Errorf("certificate signing request %s: %w", reqName, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return Credentials{}, err
	}
	return Credentials{CertPEM: certPEM, KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}, nil
}
