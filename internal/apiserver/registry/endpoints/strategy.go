// Package endpoints holds the write rules of core/v1 Endpoints: ports
// default to TCP, every subset has addresses, addresses are valid IPs
// outside the special ranges, and ports are valid and named when a subset
// has more than one. ValidateNonSpecialIP is shared with EndpointSlices.
package endpoints

import (
	"context"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

var supportedProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

// Strategy returns the Endpoints strategy the REST layer uses.
func Strategy() registry.Strategy {
	return registry.Typed[*corev1.Endpoints]{
		DefaultFunc:        Default,
		ValidateFunc:       Validate,
		ValidateUpdateFunc: ValidateUpdate,
	}
}

// Default sets the protocol of every port to TCP when unset.
func Default(ep *corev1.Endpoints) {
	for i := range ep.Subsets {
		for j := range ep.Subsets[i].Ports {
			if p := &ep.Subsets[i].Ports[j]; p.Protocol == "" {
				p.Protocol = corev1.ProtocolTCP
			}
		}
	}
}

// Validate checks the subsets.
func Validate(_ context.Context, ep *corev1.Endpoints) field.ErrorList {
	var errs field.ErrorList
	for i := range ep.Subsets {
		errs = append(errs, validateSubset(&ep.Subsets[i], field.NewPath("subsets").Index(i))...)
	}
	return errs
}

// ValidateUpdate checks the new object as on create; node names may change.
func ValidateUpdate(ctx context.Context, ep, _ *corev1.Endpoints) field.ErrorList {
	return Validate(ctx, ep)
}

func validateSubset(ss *corev1.EndpointSubset, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(ss.Addresses) == 0 && len(ss.NotReadyAddresses) == 0 {
		errs = append(errs, field.Required(p, "must specify `addresses` or `notReadyAddresses`"))
	}
	for i := range ss.Addresses {
		errs = append(errs, validateAddress(&ss.Addresses[i], p.Child("addresses").Index(i))...)
	}
	for i := range ss.NotReadyAddresses {
		errs = append(errs, validateAddress(&ss.NotReadyAddresses[i], p.Child("notReadyAddresses").Index(i))...)
	}
	for i := range ss.Ports {
		errs = append(errs, validatePort(&ss.Ports[i], len(ss.Ports) > 1, p.Child("ports").Index(i))...)
	}
	return errs
}

// validateAddress checks the IP (strictly, then for special ranges, so an
// unparsable IP is reported by both checks as upstream does), the
// hostname and the node name.
func validateAddress(addr *corev1.EndpointAddress, p *field.Path) field.ErrorList {
	errs := validation.IsValidIP(p.Child("ip"), addr.IP)
	if addr.Hostname != "" {
		for _, msg := range validation.IsDNS1123Label(addr.Hostname) {
			errs = append(errs, field.Invalid(p.Child("hostname"), addr.Hostname, msg))
		}
	}
	if addr.NodeName != nil {
		for _, msg := range apivalidation.NameIsDNSSubdomain(*addr.NodeName, false) {
			errs = append(errs, field.Invalid(p.Child("nodeName"), *addr.NodeName, msg))
		}
	}
	return append(errs, ValidateNonSpecialIP(addr.IP, p.Child("ip"))...)
}

// ValidateNonSpecialIP rejects addresses that make no sense as endpoints:
// unspecified, loopback, link-local and link-local multicast.
func ValidateNonSpecialIP(address string, p *field.Path) field.ErrorList {
	ip := net.ParseIP(address)
	if ip == nil {
		return field.ErrorList{field.Invalid(p, address, "must be a valid IP address")}
	}
	var errs field.ErrorList
	if ip.IsUnspecified() {
		errs = append(errs, field.Invalid(p, address, fmt.Sprintf("may not be unspecified (%v)", address)))
	}
	if ip.IsLoopback() {
		errs = append(errs, field.Invalid(p, address, "may not be in the loopback range (127.0.0.0/8, ::1/128)"))
	}
	if ip.IsLinkLocalUnicast() {
		errs = append(errs, field.Invalid(p, address, "may not be in the link-local range (169.254.0.0/16, fe80::/10)"))
	}
	if ip.IsLinkLocalMulticast() {
		errs = append(errs, field.Invalid(p, address, "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)"))
	}
	return errs
}

func validatePort(port *corev1.EndpointPort, requireName bool, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && port.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else if port.Name != "" {
		for _, msg := range validation.IsDNS1123Label(port.Name) {
			errs = append(errs, field.Invalid(p.Child("name"), port.Name, msg))
		}
	}
	for _, msg := range validation.IsValidPortNum(int(port.Port)) {
		errs = append(errs, field.Invalid(p.Child("port"), port.Port, msg))
	}
	errs = append(errs, ValidateProtocol(port.Protocol, p.Child("protocol"))...)
	if port.AppProtocol != nil {
		for _, msg := range validation.IsQualifiedName(*port.AppProtocol) {
			errs = append(errs, field.Invalid(p.Child("appProtocol"), *port.AppProtocol, msg))
		}
	}
	return errs
}

// ValidateProtocol requires TCP, UDP or SCTP.
func ValidateProtocol(protocol corev1.Protocol, p *field.Path) field.ErrorList {
	switch protocol {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return nil
	case "":
		return field.ErrorList{field.Required(p, "")}
	}
	return field.ErrorList{field.NotSupported(p, protocol, supportedProtocols)}
}
