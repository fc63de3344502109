package ingress

import (
	"context"
	"fmt"
	"net"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/api/validation/path"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The checks below follow upstream's pkg/apis/networking/validation, with
// its messages and field paths.

const maxControllerLen = 250

var (
	invalidPathSequences = []string{"//", "/./", "/../", "%2f", "%2F"}
	invalidPathSuffixes  = []string{"/..", "/."}
	pathTypes            = []string{string(networkingv1.PathTypeExact), string(networkingv1.PathTypeImplementationSpecific), string(networkingv1.PathTypePrefix)}
	scopes               = []string{networkingv1.IngressClassParametersReferenceScopeCluster, networkingv1.IngressClassParametersReferenceScopeNamespace}
)

// options relax the checks for objects stored before they were enforced.
type options struct {
	allowInvalidSecretName       bool
	allowInvalidWildcardHostRule bool
}

func validateSpec(spec *networkingv1.IngressSpec, p *field.Path, opts options) field.ErrorList {
	var errs field.ErrorList
	if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
		errs = append(errs, field.Invalid(p, spec.Rules, "either `defaultBackend` or `rules` must be specified"))
	}
	if spec.DefaultBackend != nil {
		errs = append(errs, validateBackend(spec.DefaultBackend, p.Child("defaultBackend"))...)
	}
	for i := range spec.Rules {
		errs = append(errs, validateRule(&spec.Rules[i], p.Child("rules").Index(i), opts)...)
	}
	for i, tls := range spec.TLS {
		tp := p.Child("tls").Index(i)
		for j, host := range tls.Hosts {
			errs = append(errs, validateHost(host, tp.Child("hosts").Index(j), opts)...)
		}
		if !opts.allowInvalidSecretName && tls.SecretName != "" {
			for _, msg := range apivalidation.NameIsDNSSubdomain(tls.SecretName, false) {
				errs = append(errs, field.Invalid(tp.Child("secretName"), tls.SecretName, msg))
			}
		}
	}
	if c := spec.IngressClassName; c != nil {
		for _, msg := range ValidateName(*c, false) {
			errs = append(errs, field.Invalid(p.Child("ingressClassName"), *c, msg))
		}
	}
	return errs
}

// validateHost checks a rule's or a TLS entry's host: a DNS subdomain, or
// one with a leading "*." wildcard.
func validateHost(host string, p *field.Path, opts options) field.ErrorList {
	var msgs []string
	switch {
	case strings.Contains(host, "*"):
		if !opts.allowInvalidWildcardHostRule {
			msgs = validation.IsWildcardDNS1123Subdomain(host)
		}
	default:
		msgs = validation.IsDNS1123Subdomain(host)
	}
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, host, msg))
	}
	return errs
}

func validateRule(rule *networkingv1.IngressRule, p *field.Path, opts options) field.ErrorList {
	var errs field.ErrorList
	if rule.Host != "" {
		if net.ParseIP(rule.Host) != nil {
			errs = append(errs, field.Invalid(p.Child("host"), rule.Host, "must be a DNS name, not an IP address"))
		}
		errs = append(errs, validateHost(rule.Host, p.Child("host"), opts)...)
	}
	if rule.HTTP == nil {
		return errs
	}
	hp := p.Child("http", "paths")
	if len(rule.HTTP.Paths) == 0 {
		errs = append(errs, field.Required(hp, ""))
	}
	for i := range rule.HTTP.Paths {
		errs = append(errs, validatePath(&rule.HTTP.Paths[i], hp.Index(i))...)
	}
	return errs
}

func validatePath(hp *networkingv1.HTTPIngressPath, p *field.Path) field.ErrorList {
	if hp.PathType == nil {
		return field.ErrorList{field.Required(p.Child("pathType"), "pathType must be specified")}
	}
	var errs field.ErrorList
	switch *hp.PathType {
	case networkingv1.PathTypeExact, networkingv1.PathTypePrefix:
		if !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
		}
		for _, seq := range invalidPathSequences {
			if strings.Contains(hp.Path, seq) {
				errs = append(errs, field.Invalid(p.Child("path"), hp.Path, fmt.Sprintf("must not contain '%s'", seq)))
			}
		}
		for _, suf := range invalidPathSuffixes {
			if strings.HasSuffix(hp.Path, suf) {
				errs = append(errs, field.Invalid(p.Child("path"), hp.Path, fmt.Sprintf("cannot end with '%s'", suf)))
			}
		}
	case networkingv1.PathTypeImplementationSpecific:
		if hp.Path != "" && !strings.HasPrefix(hp.Path, "/") {
			errs = append(errs, field.Invalid(p.Child("path"), hp.Path, "must be an absolute path"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("pathType"), *hp.PathType, pathTypes))
	}
	return append(errs, validateBackend(&hp.Backend, p.Child("backend"))...)
}

func validateBackend(b *networkingv1.IngressBackend, p *field.Path) field.ErrorList {
	switch {
	case b.Resource != nil && b.Service != nil:
		return field.ErrorList{field.Invalid(p, "", "cannot set both resource and service backends")}
	case b.Resource != nil:
		return validateTypedReference(b.Resource.APIGroup, b.Resource.Kind, b.Resource.Name, p.Child("resource"))
	case b.Service != nil:
		return validateServiceBackend(b.Service, p)
	}
	return field.ErrorList{field.Invalid(p, "", "resource or service backend is required")}
}

func validateServiceBackend(s *networkingv1.IngressServiceBackend, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Name == "" {
		errs = append(errs, field.Required(p.Child("service", "name"), ""))
	} else {
		for _, msg := range apivalidation.NameIsDNS1035Label(s.Name, false) {
			errs = append(errs, field.Invalid(p.Child("service", "name"), s.Name, msg))
		}
	}
	port := s.Port
	switch {
	case port.Name != "" && port.Number != 0:
		errs = append(errs, field.Invalid(p, "", "cannot set both port name & port number"))
	case port.Name != "":
		for _, msg := range validation.IsValidPortName(port.Name) {
			errs = append(errs, field.Invalid(p.Child("service", "port", "name"), port.Name, msg))
		}
	case port.Number != 0:
		for _, msg := range validation.IsValidPortNum(int(port.Number)) {
			errs = append(errs, field.Invalid(p.Child("service", "port", "number"), port.Number, msg))
		}
	default:
		errs = append(errs, field.Required(p, "port name or number is required"))
	}
	return errs
}

// validateTypedReference checks a resource backend or an IngressClass's
// parameters reference.
func validateTypedReference(group *string, kind, name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if group != nil {
		for _, msg := range validation.IsDNS1123Subdomain(*group) {
			errs = append(errs, field.Invalid(p.Child("apiGroup"), *group, msg))
		}
	}
	for _, f := range []struct{ name, value string }{{"kind", kind}, {"name", name}} {
		if f.value == "" {
			errs = append(errs, field.Required(p.Child(f.name), f.name+" is required"))
			continue
		}
		for _, msg := range path.IsValidPathSegmentName(f.value) {
			errs = append(errs, field.Invalid(p.Child(f.name), f.value, msg))
		}
	}
	return errs
}

func validateLoadBalancerStatus(st *networkingv1.IngressLoadBalancerStatus, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, in := range st.Ingress {
		ip := p.Child("ingress").Index(i)
		if in.IP != "" {
			errs = append(errs, validation.IsValidIP(ip.Child("ip"), in.IP)...)
		}
		if in.Hostname != "" {
			for _, msg := range validation.IsDNS1123Subdomain(in.Hostname) {
				errs = append(errs, field.Invalid(ip.Child("hostname"), in.Hostname, msg))
			}
			if net.ParseIP(in.Hostname) != nil {
				errs = append(errs, field.Invalid(ip.Child("hostname"), in.Hostname, "must be a DNS name, not an IP address"))
			}
		}
	}
	return errs
}

// secretNamesValid says whether every TLS secret name is valid.
func secretNamesValid(spec *networkingv1.IngressSpec) bool {
	for _, tls := range spec.TLS {
		if tls.SecretName != "" && len(apivalidation.NameIsDNSSubdomain(tls.SecretName, false)) > 0 {
			return false
		}
	}
	return true
}

// wildcardHostsValid says whether every wildcard host is valid.
func wildcardHostsValid(spec *networkingv1.IngressSpec) bool {
	hosts := []string{}
	for _, r := range spec.Rules {
		hosts = append(hosts, r.Host)
	}
	for _, tls := range spec.TLS {
		hosts = append(hosts, tls.Hosts...)
	}
	for _, h := range hosts {
		if strings.Contains(h, "*") && len(validation.IsWildcardDNS1123Subdomain(h)) > 0 {
			return false
		}
	}
	return true
}

// ValidateClass checks a new IngressClass as upstream's
// ValidateIngressClass.
func ValidateClass(_ context.Context, ic *networkingv1.IngressClass) field.ErrorList {
	p := field.NewPath("spec")
	var errs field.ErrorList
	if len(ic.Spec.Controller) > maxControllerLen {
		errs = append(errs, field.TooLong(p.Child("controller"), ic.Spec.Controller, maxControllerLen))
	}
	errs = append(errs, validation.IsDomainPrefixedPath(p.Child("controller"), ic.Spec.Controller)...)
	return append(errs, validateParameters(ic.Spec.Parameters, p.Child("parameters"))...)
}

// ValidateClassUpdate also keeps the controller immutable.
func ValidateClassUpdate(ctx context.Context, ic, old *networkingv1.IngressClass) field.ErrorList {
	errs := apivalidation.ValidateImmutableField(ic.Spec.Controller, old.Spec.Controller, field.NewPath("spec", "controller"))
	return append(errs, ValidateClass(ctx, ic)...)
}

func validateParameters(params *networkingv1.IngressClassParametersReference, p *field.Path) field.ErrorList {
	if params == nil {
		return nil
	}
	errs := validateTypedReference(params.APIGroup, params.Kind, params.Name, p)
	if params.Scope == nil {
		return append(errs, field.Required(p.Child("scope"), ""))
	}
	switch *params.Scope {
	case networkingv1.IngressClassParametersReferenceScopeNamespace:
		if params.Namespace == nil {
			return append(errs, field.Required(p.Child("namespace"), "`parameters.scope` is set to 'Namespace'"))
		}
		for _, msg := range apivalidation.ValidateNamespaceName(*params.Namespace, false) {
			errs = append(errs, field.Invalid(p.Child("namespace"), *params.Namespace, msg))
		}
	case networkingv1.IngressClassParametersReferenceScopeCluster:
		if params.Namespace != nil {
			errs = append(errs, field.Forbidden(p.Child("namespace"), "`parameters.scope` is set to 'Cluster'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("scope"), *params.Scope, scopes))
	}
	return errs
}
