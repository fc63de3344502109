package pki

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"path/filepath"
	"time"
)

// KubeletClientUser is the identity the API server presents to node
// agents when it forwards logs, exec and attach.
const KubeletClientUser = "kube-apiserver-kubelet-client"

// LoadIssuer loads only the CA kept in dir, for a component that issues
// its own certificates from it (a node agent on the cluster's machine).
func LoadIssuer(dir string) (*Bundle, error) {
	b := &Bundle{Paths: pathsIn(dir), now: time.Now}
	certPEM, keyPEM, err := readPair(b.Paths.CACert, b.Paths.CAKey)
	if err != nil {
		return nil, fmt.Errorf("load ca from %s: %w", filepath.Clean(dir), err)
	}
	if err := b.loadCA(certPEM, keyPEM); err != nil {
		return nil, err
	}
	return b, nil
}

// ServingCert issues a serving certificate signed by the CA for a node
// agent: the node's name and addresses. It is not stored.
func (b *Bundle) ServingCert(name string, ips []net.IP) (tls.Certificate, error) {
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{name},
		IPAddresses: ips,
	}
	lf, err := b.issue(tmpl)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue serving cert for %s: %w", name, err)
	}
	return tls.Certificate{Certificate: [][]byte{lf.cert.Raw}, PrivateKey: lf.key, Leaf: lf.cert}, nil
}

// KubeletClientTLSConfig is the TLS configuration the API server uses to
// reach node agents: a client certificate of its own, and the CA to
// verify the agents' serving certificates.
func (b *Bundle) KubeletClientTLSConfig() (*tls.Config, error) {
	lf, err := b.issue(clientTemplate(KubeletClientUser, []string{MastersGroup}))
	if err != nil {
		return nil, fmt.Errorf("issue kubelet client cert: %w", err)
	}
	cert := tls.Certificate{Certificate: [][]byte{lf.cert.Raw}, PrivateKey: lf.key, Leaf: lf.cert}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}, RootCAs: b.CAPool}, nil
}
