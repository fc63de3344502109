package csrapproving

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/svcplane/svcplane/internal/controller/csrsigning"
)

// Node serving requests: upstream's kube-controller-manager approves none
// (a person or a third-party approver does). svcplane approves one when
// a node asks for itself and every SAN is one of its Node's own
// addresses; anything else waits for `kubectl certificate approve`.

// ServingMessage is the Approved condition's message.
const ServingMessage = "Auto approving kubelet serving certificate: its subject is the requesting node and its SANs are the node's own addresses."

// ErrNodeUnknown says the requesting node's Node, or its addresses, are
// not (yet) known.
var ErrNodeUnknown = errors.New("node not found")

// ServingNode returns the node a kubelet-serving request is for, "" when
// the request is not a node serving request made by that node itself.
func ServingNode(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) string {
	if csr.Spec.SignerName != certificatesv1.KubeletServingSignerName ||
		csrsigning.ValidateKubeletServing(req, csr.Spec.Usages) != nil ||
		csr.Spec.Username != req.Subject.CommonName || !slices.Contains(csr.Spec.Groups, "system:nodes") {
		return ""
	}
	name, _ := strings.CutPrefix(req.Subject.CommonName, "system:node:")
	return name
}

// DecideServing approves a node serving request whose SANs are all
// addresses of node: IP SANs among its InternalIP and ExternalIP, DNS SANs
// among its Hostname, InternalDNS and ExternalDNS. An error names the SAN
// that is not the node's.
func DecideServing(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest, node *corev1.Node) (*certificatesv1.CertificateSigningRequest, error) {
	ips, names := nodeAddresses(node)
	for _, ip := range req.IPAddresses {
		if !slices.Contains(ips, ip.String()) {
			return nil, fmt.Errorf("IP SAN %s is not an address of node %s", ip, node.Name)
		}
	}
	for _, n := range req.DNSNames {
		if !slices.Contains(names, n) {
			return nil, fmt.Errorf("DNS SAN %s is not a name of node %s", n, node.Name)
		}
	}
	out := csr.DeepCopy()
	out.Status.Conditions = append(out.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
		Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: ServingMessage,
	})
	return out, nil
}

func nodeAddresses(node *corev1.Node) (ips, names []string) {
	for _, a := range node.Status.Addresses {
		switch a.Type {
		case corev1.NodeInternalIP, corev1.NodeExternalIP:
			if ip := net.ParseIP(a.Address); ip != nil {
				ips = append(ips, ip.String())
			}
		case corev1.NodeHostName, corev1.NodeInternalDNS, corev1.NodeExternalDNS:
			names = append(names, a.Address)
		}
	}
	return ips, names
}
