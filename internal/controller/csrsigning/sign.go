package csrsigning

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"strings"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// Upstream's bounds of a certificate's lifetime: --cluster-signing-duration
// defaults to a year; a requested spec.expirationSeconds is honoured down
// to ten minutes (twice the tolerated clock skew).
const (
	DefaultDuration = 365 * 24 * time.Hour
	MinDuration     = 10 * time.Minute
	backdate        = 5 * time.Minute
	// shortTTL: certificates shorter than this are backdated less, as
	// upstream's authority does.
	shortTTL = 8 * time.Hour
)

// CA is the key pair that signs.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// ParseCA reads a PEM certificate and its PEM key (EC, PKCS#1 or PKCS#8).
func ParseCA(certPEM, keyPEM []byte) (CA, error) {
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		return CA{}, errors.New("signing CA: no PEM certificate")
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return CA{}, fmt.Errorf("signing CA: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return CA{}, errors.New("signing CA: no PEM key")
	}
	key, err := parseKey(kb)
	if err != nil {
		return CA{}, fmt.Errorf("signing CA key: %w", err)
	}
	return CA{Cert: cert, Key: key}, nil
}

func parseKey(b *pem.Block) (crypto.Signer, error) {
	switch b.Type {
	case "EC PRIVATE KEY":
		return x509.ParseECPrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		return x509.ParsePKCS1PrivateKey(b.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %T cannot sign", k)
	}
	return s, nil
}

// ParseRequest decodes spec.request.
func ParseRequest(pemBytes []byte) (*x509.CertificateRequest, error) {
	b, _ := pem.Decode(pemBytes)
	if b == nil || b.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(b.Bytes)
}

// Duration is how long a certificate lives: spec.expirationSeconds
// clamped to [MinDuration, max], else max.
func Duration(expirationSeconds *int32, max time.Duration) time.Duration {
	if expirationSeconds == nil {
		return max
	}
	d := time.Duration(*expirationSeconds) * time.Second
	switch {
	case d > max:
		return max
	case d < MinDuration:
		return MinDuration
	}
	return d
}

// Sign issues the certificate the request asks for, valid for ttl from
// now (backdated as upstream, never past the CA's own expiry), with the
// key usages of spec.usages, and returns it as PEM.
func Sign(ca CA, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage, ttl time.Duration, now time.Time) ([]byte, error) {
	ku, eku, err := keyUsages(usages)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	bd := backdate
	if ttl < shortTTL {
		bd = ttl * backdate / shortTTL
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: req.Subject,
		DNSNames: req.DNSNames, IPAddresses: req.IPAddresses, EmailAddresses: req.EmailAddresses, URIs: req.URIs,
		KeyUsage: ku, ExtKeyUsage: eku, BasicConstraintsValid: true,
		NotBefore: now.Add(-bd).UTC(), NotAfter: now.Add(ttl).UTC(),
	}
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, req.PublicKey, ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

var (
	keyUsageOf = map[certificatesv1.KeyUsage]x509.KeyUsage{
		certificatesv1.UsageSigning: x509.KeyUsageDigitalSignature, certificatesv1.UsageDigitalSignature: x509.KeyUsageDigitalSignature,
		certificatesv1.UsageContentCommitment: x509.KeyUsageContentCommitment, certificatesv1.UsageKeyEncipherment: x509.KeyUsageKeyEncipherment,
		certificatesv1.UsageKeyAgreement: x509.KeyUsageKeyAgreement, certificatesv1.UsageDataEncipherment: x509.KeyUsageDataEncipherment,
		certificatesv1.UsageCertSign: x509.KeyUsageCertSign, certificatesv1.UsageCRLSign: x509.KeyUsageCRLSign,
		certificatesv1.UsageEncipherOnly: x509.KeyUsageEncipherOnly, certificatesv1.UsageDecipherOnly: x509.KeyUsageDecipherOnly,
	}
	extKeyUsageOf = map[certificatesv1.KeyUsage]x509.ExtKeyUsage{
		certificatesv1.UsageAny: x509.ExtKeyUsageAny, certificatesv1.UsageServerAuth: x509.ExtKeyUsageServerAuth,
		certificatesv1.UsageClientAuth: x509.ExtKeyUsageClientAuth, certificatesv1.UsageCodeSigning: x509.ExtKeyUsageCodeSigning,
		certificatesv1.UsageEmailProtection: x509.ExtKeyUsageEmailProtection, certificatesv1.UsageSMIME: x509.ExtKeyUsageEmailProtection,
		certificatesv1.UsageIPsecEndSystem: x509.ExtKeyUsageIPSECEndSystem, certificatesv1.UsageIPsecTunnel: x509.ExtKeyUsageIPSECTunnel,
		certificatesv1.UsageIPsecUser: x509.ExtKeyUsageIPSECUser, certificatesv1.UsageTimestamping: x509.ExtKeyUsageTimeStamping,
		certificatesv1.UsageOCSPSigning: x509.ExtKeyUsageOCSPSigning, certificatesv1.UsageMicrosoftSGC: x509.ExtKeyUsageMicrosoftServerGatedCrypto,
		certificatesv1.UsageNetscapeSGC: x509.ExtKeyUsageNetscapeServerGatedCrypto,
	}
)

func keyUsages(usages []certificatesv1.KeyUsage) (x509.KeyUsage, []x509.ExtKeyUsage, error) {
	var ku x509.KeyUsage
	var eku []x509.ExtKeyUsage
	for _, u := range usages {
		if k, ok := keyUsageOf[u]; ok {
			ku |= k
		} else if e, ok := extKeyUsageOf[u]; ok {
			eku = append(eku, e)
		} else {
			return 0, nil, fmt.Errorf("unrecognized usage: %s", u)
		}
	}
	return ku, eku, nil
}

// Errors of the kubelet certificate checks, upstream's texts.
var (
	errOrganizationNotSystemNodes = errors.New("subject organization is not system:nodes")
	errCommonNameNotSystemNode    = errors.New("subject common name does not begin with system:node:")
	errDNSOrIPSANRequired         = errors.New("DNS or IP subjectAltName is required")
	errDNSSANNotAllowed           = errors.New("DNS subjectAltNames are not allowed")
	errEmailSANNotAllowed         = errors.New("Email subjectAltNames are not allowed")
	errIPSANNotAllowed            = errors.New("IP subjectAltNames are not allowed")
	errURISANNotAllowed           = errors.New("URI subjectAltNames are not allowed")
)

const nodeUserPrefix = "system:node:"

// ValidateKubeletClient checks a node client certificate request as
// upstream's ValidateKubeletClientCSR: O exactly system:nodes, no SANs,
// CN system:node:<name>, usages (key encipherment,) digital signature,
// client auth.
func ValidateKubeletClient(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !reflect.DeepEqual([]string{"system:nodes"}, req.Subject.Organization) {
		return errOrganizationNotSystemNodes
	}
	switch {
	case len(req.DNSNames) > 0:
		return errDNSSANNotAllowed
	case len(req.EmailAddresses) > 0:
		return errEmailSANNotAllowed
	case len(req.IPAddresses) > 0:
		return errIPSANNotAllowed
	case len(req.URIs) > 0:
		return errURISANNotAllowed
	case !strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix):
		return errCommonNameNotSystemNode
	}
	return requireUsages(usages, certificatesv1.UsageClientAuth)
}

// ValidateKubeletServing checks a node serving certificate request as
// upstream's ValidateKubeletServingCSR.
func ValidateKubeletServing(req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) error {
	if !reflect.DeepEqual([]string{"system:nodes"}, req.Subject.Organization) {
		return errOrganizationNotSystemNodes
	}
	switch {
	case len(req.DNSNames) == 0 && len(req.IPAddresses) == 0:
		return errDNSOrIPSANRequired
	case len(req.EmailAddresses) > 0:
		return errEmailSANNotAllowed
	case len(req.URIs) > 0:
		return errURISANNotAllowed
	}
	if err := requireUsages(usages, certificatesv1.UsageServerAuth); err != nil {
		return err
	}
	if !strings.HasPrefix(req.Subject.CommonName, nodeUserPrefix) {
		return errCommonNameNotSystemNode
	}
	return nil
}

// requireUsages accepts exactly {digital signature, key encipherment,
// ext} or {digital signature, ext}, as upstream since 1.25.
func requireUsages(usages []certificatesv1.KeyUsage, ext certificatesv1.KeyUsage) error {
	set := map[certificatesv1.KeyUsage]bool{}
	for _, u := range usages {
		set[u] = true
	}
	ok := set[certificatesv1.UsageDigitalSignature] && set[ext] &&
		(len(set) == 2 || (len(set) == 3 && set[certificatesv1.UsageKeyEncipherment]))
	if !ok {
		want := []string{string(certificatesv1.UsageDigitalSignature), string(certificatesv1.UsageKeyEncipherment), string(ext)}
		slices.Sort(want)
		return fmt.Errorf("usages did not match %v", want)
	}
	return nil
}

// ValidateAPIServerClient checks the usages of a kube-apiserver-client
// request: client auth, optionally digital signature and key
// encipherment.
func ValidateAPIServerClient(usages []certificatesv1.KeyUsage) error {
	client := false
	for _, u := range usages {
		switch u {
		case certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment:
		case certificatesv1.UsageClientAuth:
			client = true
		default:
			return fmt.Errorf("invalid usage for client certificate: %s", u)
		}
	}
	if !client {
		return fmt.Errorf("missing required usage for client certificate: %s", certificatesv1.UsageClientAuth)
	}
	return nil
}

// Validate checks a request against the rules of its signer; known is
// false for signers this controller does not serve (left alone).
func Validate(signer string, req *x509.CertificateRequest, usages []certificatesv1.KeyUsage) (known bool, err error) {
	switch signer {
	case certificatesv1.KubeAPIServerClientKubeletSignerName:
		return true, ValidateKubeletClient(req, usages)
	case certificatesv1.KubeletServingSignerName:
		return true, ValidateKubeletServing(req, usages)
	case certificatesv1.KubeAPIServerClientSignerName:
		return true, ValidateAPIServerClient(usages)
	}
	return false, nil
}
