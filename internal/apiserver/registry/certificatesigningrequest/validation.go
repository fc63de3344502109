package certificatesigningrequest

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-cmp/cmp"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// LegacyUnknownSigner is the v1beta1-only signer v1 refuses.
const LegacyUnknownSigner = "kubernetes.io/legacy-unknown"

// validUsages are the key usages upstream accepts, sorted.
var validUsages = []string{
	"any", "cert sign", "client auth", "code signing", "content commitment", "crl sign", "data encipherment",
	"decipher only", "digital signature", "email protection", "encipher only", "ipsec end system", "ipsec tunnel",
	"ipsec user", "key agreement", "key encipherment", "microsoft sgc", "netscape sgc", "ocsp signing", "s/mime", "server auth",
	"signing", "timestamping",
}

// options relax the checks for an update path or for data stored before.
type options struct {
	settingApproval, settingCertificate bool
	oldCSR                              *certificatesv1.CertificateSigningRequest
}

// ParseRequest decodes a PEM CERTIFICATE REQUEST as upstream's ParseCSR.
func ParseRequest(pemBytes []byte) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("PEM block type must be CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}

func checkRequest(pemBytes []byte) error {
	req, err := ParseRequest(pemBytes)
	if err != nil {
		return err
	}
	return req.CheckSignature()
}

func checkCertificate(data []byte) error {
	if len(data) == 0 {
		return nil
	}
	blocks := 0
	for {
		block, rest := pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return fmt.Errorf("only CERTIFICATE PEM blocks are allowed, found %q", block.Type)
		}
		if len(block.Headers) != 0 {
			return errors.New("no PEM block headers are permitted")
		}
		blocks++
		certs, err := x509.ParseCertificates(block.Bytes)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return errors.New("found CERTIFICATE PEM block containing 0 certificates")
		}
		data = rest
	}
	if blocks == 0 {
		return errors.New("must contain at least one CERTIFICATE PEM block")
	}
	return nil
}

func validate(csr *certificatesv1.CertificateSigningRequest, o options) field.ErrorList {
	var errs field.ErrorList
	spec := field.NewPath("spec")
	if err := checkRequest(csr.Spec.Request); err != nil {
		errs = append(errs, field.Invalid(spec.Child("request"), csr.Spec.Request, err.Error()))
	}
	errs = append(errs, validateUsages(csr.Spec.Usages, spec.Child("usages"), o)...)
	legacyOK := o.oldCSR != nil && o.oldCSR.Spec.SignerName == LegacyUnknownSigner
	if !legacyOK && csr.Spec.SignerName == LegacyUnknownSigner {
		errs = append(errs, field.Invalid(spec.Child("signerName"), csr.Spec.SignerName, "the legacy signerName is not allowed via this API version"))
	} else {
		errs = append(errs, ValidateSignerName(spec.Child("signerName"), csr.Spec.SignerName)...)
	}
	if e := csr.Spec.ExpirationSeconds; e != nil && *e < 600 {
		errs = append(errs, field.Invalid(spec.Child("expirationSeconds"), *e, "may not specify a duration less than 600 seconds (10 minutes)"))
	}
	errs = append(errs, validateConditions(field.NewPath("status", "conditions"), csr, o)...)
	if !arbitraryCertificateOK(csr, o.oldCSR) {
		if err := checkCertificate(csr.Status.Certificate); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("status", "certificate"), "<certificate data>", err.Error()))
		}
	}
	return errs
}

func arbitraryCertificateOK(csr, old *certificatesv1.CertificateSigningRequest) bool {
	return old != nil && (bytes.Equal(csr.Status.Certificate, old.Status.Certificate) || checkCertificate(old.Status.Certificate) != nil)
}

func validateUsages(usages []certificatesv1.KeyUsage, p *field.Path, o options) field.ErrorList {
	var errs field.ErrorList
	if len(usages) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	var oldUsages []certificatesv1.KeyUsage
	if o.oldCSR != nil {
		oldUsages = o.oldCSR.Spec.Usages
	}
	if !slices.ContainsFunc(oldUsages, unknownUsage) {
		for i, u := range usages {
			if unknownUsage(u) {
				errs = append(errs, field.NotSupported(p.Index(i), u, validUsages))
			}
		}
	}
	if !hasDuplicate(oldUsages) {
		seen := map[certificatesv1.KeyUsage]bool{}
		for i, u := range usages {
			if seen[u] {
				errs = append(errs, field.Duplicate(p.Index(i), u))
			}
			seen[u] = true
		}
	}
	return errs
}

func unknownUsage(u certificatesv1.KeyUsage) bool { return !slices.Contains(validUsages, string(u)) }

func hasDuplicate[T comparable](items []T) bool {
	seen := map[T]bool{}
	for _, it := range items {
		if seen[it] {
			return true
		}
		seen[it] = true
	}
	return false
}

// ValidateSignerName checks a signer name as upstream: "<domain>/<path>".
func ValidateSignerName(p *field.Path, name string) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	segments := strings.Split(name, "/")
	if len(segments) != 2 {
		return field.ErrorList{field.Invalid(p, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'")}
	}
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(segments[0]) {
		errs = append(errs, field.Invalid(p, segments[0], msg))
	}
	if segments[1] == "" {
		errs = append(errs, field.Invalid(p, name, "must be a fully qualified domain and path of the form 'example.com/signer-name'"))
	}
	for _, msg := range path.IsValidPathSegmentName(segments[1]) {
		errs = append(errs, field.Invalid(p, segments[1], msg))
	}
	return errs
}

func validateConditions(p *field.Path, csr *certificatesv1.CertificateSigningRequest, o options) field.ErrorList {
	var errs field.ErrorList
	var oldConds []certificatesv1.CertificateSigningRequestCondition
	if o.oldCSR != nil {
		oldConds = o.oldCSR.Status.Conditions
	}
	bothOK := hasType(oldConds, certificatesv1.CertificateApproved) && hasType(oldConds, certificatesv1.CertificateDenied)
	dupOK := hasDuplicate(conditionTypes(oldConds))
	emptyOK := hasType(oldConds, "")
	seen := map[certificatesv1.RequestConditionType]bool{}
	for i, c := range csr.Status.Conditions {
		if c.Type == "" && !emptyOK {
			errs = append(errs, field.Required(p.Index(i).Child("type"), ""))
		}
		errs = append(errs, validateConditionStatus(c, p.Index(i).Child("status"))...)
		if !bothOK && exclusiveClash(c.Type, seen) {
			errs = append(errs, field.Invalid(p.Index(i).Child("type"), c.Type, "Approved and Denied conditions are mutually exclusive"))
		}
		if !dupOK && seen[c.Type] {
			errs = append(errs, field.Duplicate(p.Index(i).Child("type"), c.Type))
		}
		seen[c.Type] = true
	}
	return errs
}

func exclusiveClash(t certificatesv1.RequestConditionType, seen map[certificatesv1.RequestConditionType]bool) bool {
	return (t == certificatesv1.CertificateApproved && seen[certificatesv1.CertificateDenied]) ||
		(t == certificatesv1.CertificateDenied && seen[certificatesv1.CertificateApproved])
}

func validateConditionStatus(c certificatesv1.CertificateSigningRequestCondition, p *field.Path) field.ErrorList {
	allowed := []string{string(corev1.ConditionFalse), string(corev1.ConditionTrue), string(corev1.ConditionUnknown)}
	switch c.Type {
	case certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed:
		allowed = []string{string(corev1.ConditionTrue)}
	}
	switch {
	case c.Status == "":
		return field.ErrorList{field.Required(p, "")}
	case !slices.Contains(allowed, string(c.Status)):
		return field.ErrorList{field.NotSupported(p, c.Status, allowed)}
	}
	return nil
}

func conditionTypes(conds []certificatesv1.CertificateSigningRequestCondition) []certificatesv1.RequestConditionType {
	out := make([]certificatesv1.RequestConditionType, 0, len(conds))
	for _, c := range conds {
		out = append(out, c.Type)
	}
	return out
}

func hasType(conds []certificatesv1.CertificateSigningRequestCondition, t certificatesv1.RequestConditionType) bool {
	return slices.Contains(conditionTypes(conds), t)
}

func findConditions(csr *certificatesv1.CertificateSigningRequest, t certificatesv1.RequestConditionType) []certificatesv1.CertificateSigningRequestCondition {
	var out []certificatesv1.CertificateSigningRequestCondition
	for _, c := range csr.Status.Conditions {
		if c.Type == t {
			out = append(out, c)
		}
	}
	return out
}

func validateUpdate(csr, old *certificatesv1.CertificateSigningRequest, o options) field.ErrorList {
	o.oldCSR = old
	errs := validate(csr, o)
	conds := field.NewPath("status", "conditions")
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied, certificatesv1.CertificateFailed} {
		if len(findConditions(csr, t)) < len(findConditions(old, t)) {
			errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not remove a condition of type %q", t)))
		}
	}
	if !o.settingApproval {
		errs = append(errs, approvalUnchanged(csr, old, conds)...)
	}
	if !bytes.Equal(csr.Status.Certificate, old.Status.Certificate) {
		certPath := field.NewPath("status", "certificate")
		if !o.settingCertificate {
			errs = append(errs, field.Forbidden(certPath, "updates may not set certificate content"))
		} else if len(old.Status.Certificate) > 0 {
			errs = append(errs, field.Forbidden(certPath, "updates may not modify existing certificate content"))
		}
	}
	return errs
}

func approvalUnchanged(csr, old *certificatesv1.CertificateSigningRequest, conds *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, t := range []certificatesv1.RequestConditionType{certificatesv1.CertificateApproved, certificatesv1.CertificateDenied} {
		oldC, newC := findConditions(old, t), findConditions(csr, t)
		switch {
		case len(newC) < len(oldC):
		case len(newC) > len(oldC):
			errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not add a condition of type %q", t)))
		case !apiequality.Semantic.DeepEqual(oldC, newC):
			errs = append(errs, field.Forbidden(conds, fmt.Sprintf("updates may not modify a condition of type %q\n%v", t, cmp.Diff(oldC, newC))))
		}
	}
	return errs
}
