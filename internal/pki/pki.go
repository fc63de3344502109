// Package pki keeps the certificates of a cluster in its data directory: a
// certificate authority, the API server's serving certificate and the admin
// client certificate, and issues client certificates for nodes and
// components on demand.
//
// The first Ensure generates everything; later ones load what is there and
// keep the CA, regenerating only leaf certificates that are missing, no
// longer signed by the CA, close to expiry or (for the serving certificate)
// issued for other names.
package pki

import (
	"crypto"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"
)

// Well-known identities.
const (
	// AdminUser and MastersGroup name the admin client certificate.
	AdminUser    = "admin"
	MastersGroup = "system:masters"
	// NodeUserPrefix + node name and NodesGroup name a node's certificate.
	NodeUserPrefix = "system:node:"
	NodesGroup     = "system:nodes"
)

// File names inside the directory.
const (
	caCertFile     = "ca.crt"
	caKeyFile      = "ca.key"
	serverCertFile = "apiserver.crt"
	serverKeyFile  = "apiserver.key"
	adminCertFile  = "admin.crt"
	adminKeyFile   = "admin.key"
)

// Config says what the certificates are issued for.
type Config struct {
	// ServiceIP is the first IP of the service CIDR, the ClusterIP of the
	// "kubernetes" Service; 10.96.0.1 when nil.
	ServiceIP net.IP
	// ClusterDomain is the DNS suffix of the cluster; cluster.local if empty.
	ClusterDomain string
	// ExtraSANs are more names for the serving certificate: IPs or DNS names.
	ExtraSANs []string
	// Now returns the current time; time.Now if nil.
	Now func() time.Time
	// Logger says when a stored certificate is replaced; none if nil.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.ServiceIP == nil {
		c.ServiceIP = net.IPv4(10, 96, 0, 1)
	}
	if c.ClusterDomain == "" {
		c.ClusterDomain = "cluster.local"
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Paths are the files Ensure keeps.
type Paths struct {
	Dir                   string
	CACert, CAKey         string
	ServerCert, ServerKey string
	AdminCert, AdminKey   string
	// SAKey and SAPub are the service account token signing key pair.
	SAKey, SAPub string
}

func pathsIn(dir string) Paths {
	j := func(name string) string { return filepath.Join(dir, name) }
	return Paths{
		Dir:        dir,
		CACert:     j(caCertFile),
		CAKey:      j(caKeyFile),
		ServerCert: j(serverCertFile),
		ServerKey:  j(serverKeyFile),
		AdminCert:  j(adminCertFile),
		AdminKey:   j(adminKeyFile),
		SAKey:      j(saKeyFile),
		SAPub:      j(saPubFile),
	}
}

// Bundle is the loaded set of certificates. It is safe for concurrent use.
type Bundle struct {
	Paths Paths
	// CAPool holds the CA certificate, for verifying servers and clients.
	CAPool *x509.CertPool
	// CAPEM is the CA certificate, for embedding in kubeconfigs.
	CAPEM []byte
	// AdminCertPEM and AdminKeyPEM are the admin client credentials.
	AdminCertPEM, AdminKeyPEM []byte
	// ServiceAccountKey signs service account tokens (sa.key).
	ServiceAccountKey *rsa.PrivateKey

	now    func() time.Time
	ca     *x509.Certificate
	caKey  crypto.Signer
	server tls.Certificate
}

// Ensure loads the certificates kept in dir, creating the directory and
// generating what is missing or stale.
func Ensure(dir string, cfg Config) (*Bundle, error) {
	cfg = cfg.withDefaults()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create pki dir: %w", err)
	}
	b := &Bundle{Paths: pathsIn(dir), now: cfg.Now}
	if err := b.ensureCA(); err != nil {
		return nil, err
	}
	if err := b.ensureServer(cfg); err != nil {
		return nil, err
	}
	if err := b.ensureAdmin(); err != nil {
		return nil, err
	}
	if err := b.ensureServiceAccountKey(); err != nil {
		return nil, err
	}
	return b, nil
}

// ClientCert issues a client certificate for user name in groups, signed by
// the CA, e.g. ("system:node:n1", ["system:nodes"]) for a node. It is not
// stored.
func (b *Bundle) ClientCert(name string, groups []string) (certPEM, keyPEM []byte, err error) {
	lf, err := b.issue(clientTemplate(name, groups))
	if err != nil {
		return nil, nil, fmt.Errorf("issue client cert %q: %w", name, err)
	}
	return lf.certPEM, lf.keyPEM, nil
}

// NodeCert issues the client certificate of node nodeName.
func (b *Bundle) NodeCert(nodeName string) (certPEM, keyPEM []byte, err error) {
	return b.ClientCert(NodeUserPrefix+nodeName, []string{NodesGroup})
}

// ServerTLSConfig returns a new TLS configuration for the API server: it
// presents the serving certificate and verifies client certificates against
// the CA when one is sent. Requests without a verified certificate get
// through the handshake; the server itself must answer them 401.
func (b *Bundle) ServerTLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{b.server},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    b.CAPool,
	}
}

// ServerCertificate returns the parsed serving certificate.
func (b *Bundle) ServerCertificate() *x509.Certificate {
	return b.server.Leaf
}

func (b *Bundle) ensureCA() error {
	certPEM, keyPEM, err := readPair(b.Paths.CACert, b.Paths.CAKey)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if certPEM != nil || keyPEM != nil {
			return fmt.Errorf("ca: only one of %s and %s exists; refusing to replace the CA", caCertFile, caKeyFile)
		}
		lf, err := newCA(b.now())
		if err != nil {
			return fmt.Errorf("generate ca: %w", err)
		}
		if err := writePair(b.Paths.CACert, b.Paths.CAKey, lf); err != nil {
			return err
		}
		certPEM, keyPEM = lf.certPEM, lf.keyPEM
	case err != nil:
		return err
	}
	return b.loadCA(certPEM, keyPEM)
}

func (b *Bundle) loadCA(certPEM, keyPEM []byte) error {
	lf, err := parseLeaf(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("load ca: %w", err)
	}
	if !lf.cert.IsCA {
		return fmt.Errorf("load ca: %s is not a CA certificate", b.Paths.CACert)
	}
	b.ca, b.caKey, b.CAPEM = lf.cert, lf.key, certPEM
	b.CAPool = x509.NewCertPool()
	b.CAPool.AddCert(lf.cert)
	return nil
}

func (b *Bundle) ensureServer(cfg Config) error {
	tmpl := serverTemplate(cfg)
	lf, err := b.loadOrIssue(b.Paths.ServerCert, b.Paths.ServerKey, tmpl, func(c *x509.Certificate) bool {
		if sameSANs(c, tmpl) {
			return true
		}
		cfg.Logger.Info("the serving certificate names other addresses: issuing a new one",
			"file", b.Paths.ServerCert, "had", sortedNames(c), "want", sortedNames(tmpl))
		return false
	})
	if err != nil {
		return fmt.Errorf("serving cert: %w", err)
	}
	b.server = tls.Certificate{
		Certificate: [][]byte{lf.cert.Raw},
		PrivateKey:  lf.key,
		Leaf:        lf.cert,
	}
	return nil
}

func (b *Bundle) ensureAdmin() error {
	tmpl := clientTemplate(AdminUser, []string{MastersGroup})
	lf, err := b.loadOrIssue(b.Paths.AdminCert, b.Paths.AdminKey, tmpl, func(c *x509.Certificate) bool {
		return c.Subject.CommonName == AdminUser
	})
	if err != nil {
		return fmt.Errorf("admin cert: %w", err)
	}
	b.AdminCertPEM, b.AdminKeyPEM = lf.certPEM, lf.keyPEM
	return nil
}

// loadOrIssue returns the pair kept in certPath and keyPath if it is usable
// and fits (ok), or issues a new one from tmpl and writes it.
func (b *Bundle) loadOrIssue(certPath, keyPath string, tmpl *x509.Certificate, ok func(*x509.Certificate) bool) (*leaf, error) {
	certPEM, keyPEM, err := readPair(certPath, keyPath)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err == nil {
		lf, perr := parseLeaf(certPEM, keyPEM)
		if perr == nil && b.usable(lf.cert) && ok(lf.cert) {
			return lf, nil
		}
	}
	lf, err := b.issue(tmpl)
	if err != nil {
		return nil, err
	}
	if err := writePair(certPath, keyPath, lf); err != nil {
		return nil, err
	}
	return lf, nil
}

// usable says whether c chains to the CA and is not close to expiry.
func (b *Bundle) usable(c *x509.Certificate) bool {
	if c.CheckSignatureFrom(b.ca) != nil {
		return false
	}
	now := b.now()
	return now.After(c.NotBefore) && now.Add(renewBefore).Before(c.NotAfter)
}

func (b *Bundle) issue(tmpl *x509.Certificate) (*leaf, error) {
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	return sign(tmpl, b.ca, key, b.caKey, b.now())
}
