package pod

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedPortProtocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
	supportedPullPolicies  = []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}
)

const initNoRestart = "may not be set for init containers without restartPolicy=Always"

// validateContainers checks the regular containers: at least one, unique
// names, their probes and hooks, and host ports across all of them.
func validateContainers(containers []corev1.Container, volumes map[string]corev1.VolumeSource, grace *int64, fldPath *field.Path) field.ErrorList {
	if len(containers) == 0 {
		return field.ErrorList{field.Required(fldPath, "")}
	}
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range containers {
		c, idxPath := &containers[i], fldPath.Index(i)
		errs = append(errs, validateContainerCommon(c, volumes, idxPath)...)
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(idxPath.Child("name"), c.Name))
		}
		names.Insert(c.Name)
		errs = append(errs, validateProbesAndHooks(c, grace, idxPath)...)
		if c.RestartPolicy != nil {
			errs = append(errs, field.Forbidden(idxPath.Child("restartPolicy"), "may not be set for non-init containers"))
		}
	}
	return append(errs, checkHostPortConflicts(containers, fldPath)...)
}

// validateInitContainers checks init containers; their names must also be
// unique among the regular containers.
func validateInitContainers(inits, regular []corev1.Container, volumes map[string]corev1.VolumeSource, grace *int64, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for _, c := range regular {
		names.Insert(c.Name)
	}
	for i := range inits {
		c, idxPath := &inits[i], fldPath.Index(i)
		errs = append(errs, validateContainerCommon(c, volumes, idxPath)...)
		restartAlways := c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways
		if c.RestartPolicy != nil && !restartAlways {
			errs = append(errs, field.NotSupported(idxPath.Child("restartPolicy"), *c.RestartPolicy,
				[]corev1.ContainerRestartPolicy{corev1.ContainerRestartPolicyAlways}))
		}
		if names.Has(c.Name) {
			errs = append(errs, field.Duplicate(idxPath.Child("name"), c.Name))
		} else if c.Name != "" {
			names.Insert(c.Name)
		}
		errs = append(errs, checkHostPortConflicts([]corev1.Container{*c}, fldPath)...)
		if restartAlways {
			errs = append(errs, validateProbesAndHooks(c, grace, idxPath)...)
		} else {
			errs = append(errs, forbidProbesAndHooks(c, idxPath)...)
		}
	}
	return errs
}

func forbidProbesAndHooks(c *corev1.Container, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Lifecycle != nil {
		errs = append(errs, field.Forbidden(p.Child("lifecycle"), initNoRestart))
	}
	if c.LivenessProbe != nil {
		errs = append(errs, field.Forbidden(p.Child("livenessProbe"), initNoRestart))
	}
	if c.ReadinessProbe != nil {
		errs = append(errs, field.Forbidden(p.Child("readinessProbe"), initNoRestart))
	}
	if c.StartupProbe != nil {
		errs = append(errs, field.Forbidden(p.Child("startupProbe"), initNoRestart))
	}
	return errs
}

// validateContainerCommon holds the checks every kind of container gets.
func validateContainerCommon(c *corev1.Container, volumes map[string]corev1.VolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else {
		errs = append(errs, validateDNS1123Label(c.Name, p.Child("name"))...)
	}
	if c.Image == "" {
		errs = append(errs, field.Required(p.Child("image"), ""))
	}
	errs = append(errs, validateTerminationMessagePolicy(c.TerminationMessagePolicy, p.Child("terminationMessagePolicy"))...)
	errs = append(errs, validateContainerPorts(c.Ports, p.Child("ports"))...)
	errs = append(errs, validateEnv(c.Env, p.Child("env"))...)
	errs = append(errs, validateVolumeMounts(c.VolumeMounts, volumes, p.Child("volumeMounts"))...)
	errs = append(errs, validatePullPolicy(c.ImagePullPolicy, p.Child("imagePullPolicy"))...)
	errs = append(errs, validateResourceRequirements(&c.Resources, p.Child("resources"))...)
	return append(errs, validateSecurityContext(c.SecurityContext, p.Child("securityContext"))...)
}

func validateTerminationMessagePolicy(policy corev1.TerminationMessagePolicy, p *field.Path) field.ErrorList {
	switch policy {
	case corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError:
		return nil
	case "":
		return field.ErrorList{field.Required(p, "")}
	}
	return field.ErrorList{field.NotSupported(p, policy, []corev1.TerminationMessagePolicy{
		corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError})}
}

func validatePullPolicy(policy corev1.PullPolicy, p *field.Path) field.ErrorList {
	switch policy {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return nil
	case "":
		return field.ErrorList{field.Required(p, "")}
	}
	return field.ErrorList{field.NotSupported(p, policy, supportedPullPolicies)}
}

// validateContainerPorts checks port numbers, IANA_SVC_NAME port names
// unique within the container, and protocols.
func validateContainerPorts(ports []corev1.ContainerPort, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		idxPath := fldPath.Index(i)
		if port.Name != "" {
			errs = append(errs, validatePortName(port.Name, names, idxPath.Child("name"))...)
		}
		if port.ContainerPort == 0 {
			errs = append(errs, field.Required(idxPath.Child("containerPort"), ""))
		} else {
			errs = append(errs, validatePortNum(port.ContainerPort, idxPath.Child("containerPort"))...)
		}
		if port.HostPort != 0 {
			errs = append(errs, validatePortNum(port.HostPort, idxPath.Child("hostPort"))...)
		}
		errs = append(errs, validateProtocol(port.Protocol, idxPath.Child("protocol"))...)
	}
	return errs
}

func validatePortName(name string, seen sets.Set[string], p *field.Path) field.ErrorList {
	if msgs := validation.IsValidPortName(name); len(msgs) != 0 {
		var errs field.ErrorList
		for _, msg := range msgs {
			errs = append(errs, field.Invalid(p, name, msg))
		}
		return errs
	}
	if seen.Has(name) {
		return field.ErrorList{field.Duplicate(p, name)}
	}
	seen.Insert(name)
	return nil
}

func validatePortNum(port int32, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsValidPortNum(int(port)) {
		errs = append(errs, field.Invalid(p, port, msg))
	}
	return errs
}

func validateProtocol(protocol corev1.Protocol, p *field.Path) field.ErrorList {
	switch protocol {
	case corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP:
		return nil
	case "":
		return field.ErrorList{field.Required(p, "")}
	}
	return field.ErrorList{field.NotSupported(p, protocol, supportedPortProtocols)}
}

// checkHostPortConflicts reports a host port used twice (same protocol and
// host IP) among the given containers.
func checkHostPortConflicts(containers []corev1.Container, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	used := sets.New[string]()
	for ci, c := range containers {
		for pi, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if used.Has(key) {
				errs = append(errs, field.Duplicate(fldPath.Index(ci).Child("ports").Index(pi).Child("hostPort"), key))
			}
			used.Insert(key)
		}
	}
	return errs
}
