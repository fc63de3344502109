package endpointslice

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/apiserver/registry/endpoints"
)

// Limits upstream's validation enforces. The API documentation says 100
// ports; the validation allows 20000, which is what a client sees.
const (
	MaxEndpoints = 1000
	MaxAddresses = 100
	MaxPorts     = 20000
	MaxHints     = 8
)

var addressTypes = []string{string(discoveryv1.AddressTypeFQDN), string(discoveryv1.AddressTypeIPv4), string(discoveryv1.AddressTypeIPv6)}

// Validate checks a new slice. Object metadata (labels included) is
// checked by the REST layer.
func Validate(_ context.Context, slice *discoveryv1.EndpointSlice) field.ErrorList {
	errs := validateAddressType(slice.AddressType)
	errs = append(errs, validateEndpoints(slice.Endpoints, slice.AddressType, field.NewPath("endpoints"))...)
	return append(errs, validatePorts(slice.Ports, field.NewPath("ports"))...)
}

// ValidateUpdate checks the new slice; the address type is immutable.
func ValidateUpdate(ctx context.Context, slice, old *discoveryv1.EndpointSlice) field.ErrorList {
	errs := Validate(ctx, slice)
	return append(errs, apivalidation.ValidateImmutableField(slice.AddressType, old.AddressType, field.NewPath("addressType"))...)
}

func validateAddressType(t discoveryv1.AddressType) field.ErrorList {
	p := field.NewPath("addressType")
	switch t {
	case "":
		return field.ErrorList{field.Required(p, "")}
	case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, t, addressTypes)}
}

func validateEndpoints(eps []discoveryv1.Endpoint, addrType discoveryv1.AddressType, fldPath *field.Path) field.ErrorList {
	if len(eps) > MaxEndpoints {
		return field.ErrorList{field.TooMany(fldPath, len(eps), MaxEndpoints)}
	}
	var errs field.ErrorList
	for i := range eps {
		ep, p := &eps[i], fldPath.Index(i)
		errs = append(errs, validateAddresses(ep.Addresses, addrType, p.Child("addresses"))...)
		if ep.NodeName != nil {
			for _, msg := range apivalidation.NameIsDNSSubdomain(*ep.NodeName, false) {
				errs = append(errs, field.Invalid(p.Child("nodeName"), *ep.NodeName, msg))
			}
		}
		if ep.Hostname != nil {
			for _, msg := range validation.IsDNS1123Label(*ep.Hostname) {
				errs = append(errs, field.Invalid(p.Child("hostname"), *ep.Hostname, msg))
			}
		}
		if ep.Hints != nil {
			errs = append(errs, validateHints(ep.Hints, p.Child("hints"))...)
		}
	}
	return errs
}

// validateAddresses requires 1 to 100 addresses of the slice's type.
func validateAddresses(addrs []string, addrType discoveryv1.AddressType, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(addrs) == 0 {
		errs = append(errs, field.Required(p, "must contain at least 1 address"))
	} else if len(addrs) > MaxAddresses {
		errs = append(errs, field.TooMany(p, len(addrs), MaxAddresses))
	}
	for i, addr := range addrs {
		switch addrType {
		case discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6:
			errs = append(errs, validateIP(addr, addrType, p.Index(i))...)
		case discoveryv1.AddressTypeFQDN:
			errs = append(errs, validation.IsFullyQualifiedDomainName(p.Index(i), addr)...)
		}
	}
	return errs
}

// validateIP checks an address is a valid IP of the slice's family and not
// in a special range.
func validateIP(addr string, family discoveryv1.AddressType, p *field.Path) field.ErrorList {
	errs := validation.IsValidIP(p, addr)
	if ip, err := netip.ParseAddr(addr); err == nil {
		if family == discoveryv1.AddressTypeIPv4 && !ip.Unmap().Is4() {
			errs = append(errs, field.Invalid(p, addr, "must be an IPv4 address"))
		}
		if family == discoveryv1.AddressTypeIPv6 && ip.Unmap().Is4() {
			errs = append(errs, field.Invalid(p, addr, "must be an IPv6 address"))
		}
	}
	return append(errs, endpoints.ValidateNonSpecialIP(addr, p)...)
}

func validateHints(hints *discoveryv1.EndpointHints, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(hints.ForZones) > MaxHints {
		errs = append(errs, field.TooMany(p.Child("forZones"), len(hints.ForZones), MaxHints))
	} else {
		zones := make([]string, len(hints.ForZones))
		for i, z := range hints.ForZones {
			zones[i] = z.Name
		}
		errs = append(errs, validateHintNames(zones, p.Child("forZones"), validation.IsValidLabelValue)...)
	}
	if len(hints.ForNodes) > MaxHints {
		errs = append(errs, field.TooMany(p.Child("forNodes"), len(hints.ForNodes), MaxHints))
	} else {
		nodes := make([]string, len(hints.ForNodes))
		for i, n := range hints.ForNodes {
			nodes[i] = n.Name
		}
		errs = append(errs, validateHintNames(nodes, p.Child("forNodes"), validation.IsDNS1123Subdomain)...)
	}
	return errs
}

func validateHintNames(names []string, p *field.Path, check func(string) []string) field.ErrorList {
	var errs field.ErrorList
	seen := sets.New[string]()
	for i, name := range names {
		np := p.Index(i).Child("name")
		if seen.Has(name) {
			errs = append(errs, field.Duplicate(np, name))
		}
		seen.Insert(name)
		for _, msg := range check(name) {
			errs = append(errs, field.Invalid(np, name, msg))
		}
	}
	return errs
}

// validatePorts checks at most MaxPorts ports with unique names.
func validatePorts(ports []discoveryv1.EndpointPort, fldPath *field.Path) field.ErrorList {
	if len(ports) > MaxPorts {
		return field.ErrorList{field.TooMany(fldPath, len(ports), MaxPorts)}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		p, name := fldPath.Index(i), deref(port.Name)
		if name != "" {
			for _, msg := range validation.IsDNS1123Label(name) {
				errs = append(errs, field.Invalid(p.Child("name"), name, msg))
			}
		}
		if names.Has(name) {
			errs = append(errs, field.Duplicate(p.Child("name"), port.Name))
		}
		names.Insert(name)
		errs = append(errs, validatePortProtocol(port.Protocol, p.Child("protocol"))...)
		if port.AppProtocol != nil {
			for _, msg := range validation.IsQualifiedName(*port.AppProtocol) {
				errs = append(errs, field.Invalid(p.Child("appProtocol"), *port.AppProtocol, msg))
			}
		}
	}
	return errs
}

func validatePortProtocol(protocol *corev1.Protocol, p *field.Path) field.ErrorList {
	if protocol == nil {
		return field.ErrorList{field.Required(p, "")}
	}
	if *protocol == "" {
		// Set but empty is unsupported, not missing.
		return field.ErrorList{field.NotSupported(p, *protocol, []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP})}
	}
	return endpoints.ValidateProtocol(*protocol, p)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
