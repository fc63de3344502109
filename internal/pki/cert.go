package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"slices"
	"time"
)

const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 365 * 24 * time.Hour
	// renewBefore is how long before expiry a stored leaf is replaced.
	renewBefore = 30 * 24 * time.Hour
	// backdate tolerates clocks a little behind ours.
	backdate = 5 * time.Minute

	caCommonName     = "svcplane-ca"
	serverCommonName = "kube-apiserver"
)

// leaf is a certificate with its key, parsed and encoded.
type leaf struct {
	cert            *x509.Certificate
	key             crypto.Signer
	certPEM, keyPEM []byte
}

func newKey() (*ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return key, nil
}

func newCA(now time.Time) (*leaf, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: caCommonName},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		NotAfter:              now.Add(caValidity),
	}
	return sign(tmpl, nil, key, key, now)
}

// serverTemplate is the serving certificate for the API server: loopback,
// the kubernetes Service's IP and names, and the extra SANs.
func serverTemplate(cfg Config) *x509.Certificate {
	t := &x509.Certificate{
		Subject:     pkix.Name{CommonName: serverCommonName},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{
			"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc." + cfg.ClusterDomain,
		},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback, cfg.ServiceIP},
	}
	for _, san := range cfg.ExtraSANs {
		if ip := net.ParseIP(san); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else if san != "" {
			t.DNSNames = append(t.DNSNames, san)
		}
	}
	return t
}

// clientTemplate is a client certificate for user name in groups, the way
// the API server reads them: CN is the user, O the groups.
func clientTemplate(name string, groups []string) *x509.Certificate {
	return &x509.Certificate{
		Subject:     pkix.Name{CommonName: name, Organization: groups},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
}

// sign issues tmpl for key, signed by parent (self-signed if nil) with
// parentKey. A zero NotAfter means the leaf validity.
func sign(tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, parentKey crypto.Signer, now time.Time) (*leaf, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	t := *tmpl
	t.SerialNumber = serial
	t.NotBefore = now.Add(-backdate).UTC()
	if t.NotAfter.IsZero() {
		t.NotAfter = now.Add(leafValidity)
	}
	t.NotAfter = t.NotAfter.UTC()
	if parent == nil {
		parent = &t
	}
	der, err := x509.CreateCertificate(rand.Reader, &t, parent, key.Public(), parentKey)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return parseLeaf(
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	)
}

// parseLeaf decodes a PEM certificate and its PEM private key and checks
// that they belong together.
func parseLeaf(certPEM, keyPEM []byte) (*leaf, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("private key does not match certificate")
	}
	return &leaf{cert: cert, key: key, certPEM: certPEM, keyPEM: keyPEM}, nil
}

func parseKey(keyPEM []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM private key")
	}
	switch block.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, err
		}
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("unsupported private key %q", block.Type)
}

// sameSANs says whether c carries exactly the names of tmpl.
func sameSANs(c, tmpl *x509.Certificate) bool {
	return slices.Equal(sortedNames(c), sortedNames(tmpl))
}

func sortedNames(c *x509.Certificate) []string {
	names := slices.Clone(c.DNSNames)
	for _, ip := range c.IPAddresses {
		names = append(names, "ip:"+ip.String())
	}
	slices.Sort(names)
	return slices.Compact(names)
}
