package pod

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits of the DNS configuration, from libc's resolver.
const (
	maxDNSNameservers     = 3
	maxDNSSearchPaths     = 32
	maxDNSSearchListChars = 2048
)

func validatePodSecurityContext(sc *corev1.PodSecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.FSGroup != nil {
		errs = append(errs, invalidEach(p.Child("fsGroup"), *sc.FSGroup, validation.IsValidGroupID(*sc.FSGroup))...)
	}
	if sc.RunAsUser != nil {
		errs = append(errs, invalidEach(p.Child("runAsUser"), *sc.RunAsUser, validation.IsValidUserID(*sc.RunAsUser))...)
	}
	if sc.RunAsGroup != nil {
		errs = append(errs, invalidEach(p.Child("runAsGroup"), *sc.RunAsGroup, validation.IsValidGroupID(*sc.RunAsGroup))...)
	}
	for i, gid := range sc.SupplementalGroups {
		errs = append(errs, invalidEach(p.Child("supplementalGroups").Index(i), gid, validation.IsValidGroupID(gid))...)
	}
	return errs
}

// invalidEach turns each message into an Invalid error on p.
func invalidEach(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

// validateDNSConfig requires nameservers with dnsPolicy None and checks the
// resolver limits.
func validateDNSConfig(cfg *corev1.PodDNSConfig, policy corev1.DNSPolicy, p *field.Path) field.ErrorList {
	if policy == corev1.DNSNone && cfg == nil {
		return field.ErrorList{field.Required(p, "must provide `dnsConfig` when `dnsPolicy` is None")}
	}
	if policy == corev1.DNSNone && len(cfg.Nameservers) == 0 {
		return field.ErrorList{field.Required(p.Child("nameservers"), "must provide at least one DNS nameserver when `dnsPolicy` is None")}
	}
	if cfg == nil {
		return nil
	}
	var errs field.ErrorList
	if len(cfg.Nameservers) > maxDNSNameservers {
		errs = append(errs, field.Invalid(p.Child("nameservers"), cfg.Nameservers, fmt.Sprintf("must not have more than %v nameservers", maxDNSNameservers)))
	}
	for i, ns := range cfg.Nameservers {
		errs = append(errs, validation.IsValidIP(p.Child("nameservers").Index(i), ns)...)
	}
	errs = append(errs, validateDNSSearches(cfg.Searches, p.Child("searches"))...)
	for i, opt := range cfg.Options {
		if opt.Name == "" {
			errs = append(errs, field.Required(p.Child("options").Index(i), "must not be empty"))
		}
	}
	return errs
}

// validateDNSSearches applies the relaxed rule (on by default since 1.32):
// "." or a DNS subdomain that may contain underscores and end in a dot.
func validateDNSSearches(searches []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(searches) > maxDNSSearchPaths {
		errs = append(errs, field.Invalid(p, searches, fmt.Sprintf("must not have more than %v search paths", maxDNSSearchPaths)))
	}
	if len(strings.Join(searches, " ")) > maxDNSSearchListChars {
		errs = append(errs, field.Invalid(p, searches, fmt.Sprintf("must not have more than %v characters (including spaces) in the search list", maxDNSSearchListChars)))
	}
	for i, search := range searches {
		if search == "." {
			continue
		}
		search = strings.TrimSuffix(search, ".")
		errs = append(errs, invalidEach(p.Index(i), search, validation.IsDNS1123SubdomainWithUnderscore(search))...)
	}
	return errs
}

func validateReadinessGates(gates []corev1.PodReadinessGate, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, gate := range gates {
		cond := string(gate.ConditionType)
		errs = append(errs, invalidEach(p.Index(i).Child("conditionType"), cond, validation.IsQualifiedName(cond))...)
	}
	return errs
}

// validateSchedulingGates requires qualified, distinct gate names.
func validateSchedulingGates(gates []corev1.PodSchedulingGate, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	seen := map[string]bool{}
	for i, g := range gates {
		errs = append(errs, invalidEach(p.Index(i), g.Name, validation.IsQualifiedName(g.Name))...)
		if seen[g.Name] {
			errs = append(errs, field.Duplicate(p.Index(i), g.Name))
		}
		seen[g.Name] = true
	}
	return errs
}

func validateHostAliases(aliases []corev1.HostAlias, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, alias := range aliases {
		errs = append(errs, validation.IsValidIP(p.Index(i).Child("ip"), alias.IP)...)
		for j, hostname := range alias.Hostnames {
			errs = append(errs, invalidEach(p.Index(i).Child("hostnames").Index(j), hostname, validation.IsDNS1123Subdomain(hostname))...)
		}
	}
	return errs
}

// validateTolerations checks keys, operators, values and effects.
func validateTolerations(tolerations []corev1.Toleration, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, t := range tolerations {
		p := fldPath.Index(i)
		if t.Key != "" {
			errs = append(errs, metav1validation.ValidateLabelName(t.Key, p.Child("key"))...)
		}
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			errs = append(errs, field.Invalid(p.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			errs = append(errs, field.Invalid(p.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		errs = append(errs, validateTolerationOperator(t, p)...)
		if t.Effect != "" {
			errs = append(errs, ValidateTaintEffect(t.Effect, p.Child("effect"))...)
		}
	}
	return errs
}

func validateTolerationOperator(t corev1.Toleration, p *field.Path) field.ErrorList {
	switch t.Operator {
	case corev1.TolerationOpEqual, "":
		if msgs := validation.IsValidLabelValue(t.Value); len(msgs) != 0 {
			return field.ErrorList{field.Invalid(p.Child("operator"), t.Value, strings.Join(msgs, ";"))}
		}
	case corev1.TolerationOpExists:
		if t.Value != "" {
			return field.ErrorList{field.Invalid(p.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'")}
		}
	default:
		return field.ErrorList{field.NotSupported(p.Child("operator"), t.Operator,
			[]corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists})}
	}
	return nil
}

// ValidateTaintEffect checks a non-empty taint effect; nodes share it.
func ValidateTaintEffect(effect corev1.TaintEffect, p *field.Path) field.ErrorList {
	switch effect {
	case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		return nil
	}
	return field.ErrorList{field.NotSupported(p, effect, []corev1.TaintEffect{
		corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute})}
}
