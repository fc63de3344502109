package printers

import (
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
)

// csrPrinter prints CertificateSigningRequests as upstream, with the
// descriptions of v1beta1 (Requestor is described by spec.request there).
func csrPrinter() Printer {
	spec := certificatesv1beta1.CertificateSigningRequestSpec{}.SwaggerDoc()
	return Printer{Columns: []metav1.TableColumnDefinition{
		nameColumn(),
		ageColumn(),
		column("SignerName", "string", spec["signerName"]),
		column("Requestor", "string", spec["request"]),
		column("RequestedDuration", "string", spec["expirationSeconds"]),
		column("Condition", "string", certificatesv1beta1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"]),
	}, Row: typed(csrRow)}
}

func csrRow(c *certificatesv1.CertificateSigningRequest, now time.Time) []interface{} {
	signer, requested := "<none>", "<none>"
	if c.Spec.SignerName != "" {
		signer = c.Spec.SignerName
	}
	if e := c.Spec.ExpirationSeconds; e != nil {
		requested = duration.HumanDuration(time.Duration(*e) * time.Second)
	}
	return []interface{}{c.Name, age(c.CreationTimestamp, now), signer, c.Spec.Username, requested, CSRCondition(c)}
}

// CSRCondition is the CONDITION cell: Denied, Approved or Pending, then
// ",Failed" and ",Issued" when they apply.
func CSRCondition(c *certificatesv1.CertificateSigningRequest) string {
	var approved, denied, failed bool
	for _, cond := range c.Status.Conditions {
		switch cond.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	if denied {
		status = "Denied"
	} else if approved {
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(c.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return status
}
