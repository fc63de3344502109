package service

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// supportedProtocols lists the port protocols, sorted.
func supportedProtocols() []corev1.Protocol {
	return []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}
}

// validatePortsRequired: ports are required unless headless or
// ExternalName.
func validatePortsRequired(svc *corev1.Service) field.ErrorList {
	if len(svc.Spec.Ports) == 0 && !isHeadless(svc) && svc.Spec.Type != corev1.ServiceTypeExternalName {
		return field.ErrorList{field.Required(specField("ports"), "")}
	}
	return nil
}

// validatePorts checks each port on its own; names must be unique.
func validatePorts(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	names := sets.New[string]()
	for i := range svc.Spec.Ports {
		p := specField("ports").Index(i)
		errs = append(errs, validateServicePort(&svc.Spec.Ports[i], len(svc.Spec.Ports) > 1, names, p)...)
	}
	return errs
}

func validateServicePort(sp *corev1.ServicePort, requireName bool, names sets.Set[string], p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if requireName && sp.Name == "" {
		errs = append(errs, field.Required(p.Child("name"), ""))
	} else if sp.Name != "" {
		errs = append(errs, invalidEach(p.Child("name"), sp.Name, validation.IsDNS1123Label(sp.Name))...)
		if names.Has(sp.Name) {
			errs = append(errs, field.Duplicate(p.Child("name"), sp.Name))
		} else {
			names.Insert(sp.Name)
		}
	}
	errs = append(errs, invalidEach(p.Child("port"), sp.Port, validation.IsValidPortNum(int(sp.Port)))...)
	errs = append(errs, requiredEnum(p.Child("protocol"), sp.Protocol, supportedProtocols())...)
	errs = append(errs, validatePortNumOrName(sp.TargetPort, p.Child("targetPort"))...)
	if sp.AppProtocol != nil {
		errs = append(errs, invalidEach(p.Child("appProtocol"), *sp.AppProtocol, content.IsLabelKey(*sp.AppProtocol))...)
	}
	// targetPort on headless Services is tolerated in v1, as upstream does.
	return errs
}

// validatePortNumOrName checks a number as a port number and a string as an
// IANA_SVC_NAME.
func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	switch port.Type {
	case intstr.Int:
		return invalidEach(p, port.IntValue(), validation.IsValidPortNum(port.IntValue()))
	case intstr.String:
		return invalidEach(p, port.StrVal, validation.IsValidPortName(port.StrVal))
	}
	return field.ErrorList{field.InternalError(p, fmt.Errorf("unknown type: %v", port.Type))}
}

// invalidEach turns each message into an Invalid error of value.
func invalidEach(p *field.Path, value any, msgs []string) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range msgs {
		errs = append(errs, field.Invalid(p, value, msg))
	}
	return errs
}

// validateNodePortsForClusterIP: type ClusterIP may not carry nodePorts.
func validateNodePortsForClusterIP(svc *corev1.Service) field.ErrorList {
	if svc.Spec.Type != corev1.ServiceTypeClusterIP {
		return nil
	}
	var errs field.ErrorList
	for i := range svc.Spec.Ports {
		if svc.Spec.Ports[i].NodePort != 0 {
			p := specField("ports").Index(i).Child("nodePort")
			errs = append(errs, field.Forbidden(p, "may not be used when `type` is 'ClusterIP'"))
		}
	}
	return errs
}

// validateUniqueNodePorts rejects a (protocol, nodePort) pair used twice.
func validateUniqueNodePorts(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	seen := map[corev1.ServicePort]bool{}
	for i, port := range svc.Spec.Ports {
		if port.NodePort == 0 {
			continue
		}
		key := corev1.ServicePort{Protocol: port.Protocol, NodePort: port.NodePort}
		if seen[key] {
			errs = append(errs, field.Duplicate(specField("ports").Index(i).Child("nodePort"), port.NodePort))
		}
		seen[key] = true
	}
	return errs
}

// validateUniquePorts rejects a (protocol, port) pair used twice.
func validateUniquePorts(svc *corev1.Service) field.ErrorList {
	var errs field.ErrorList
	seen := map[internalServicePort]bool{}
	for i, port := range svc.Spec.Ports {
		key := internalServicePort{Protocol: port.Protocol, Port: port.Port}
		if seen[key] {
			errs = append(errs, field.Duplicate(specField("ports").Index(i), key))
		}
		seen[key] = true
	}
	return errs
}

// internalServicePort mirrors the field names and order of the internal
// core.ServicePort (no JSON tags), so that a duplicate port renders exactly
// as kube-apiserver renders it:
// {"Name":"","Protocol":"TCP","AppProtocol":null,"Port":80,"TargetPort":0,"NodePort":0}.
type internalServicePort struct {
	Name        string
	Protocol    corev1.Protocol
	AppProtocol *string
	Port        int32
	TargetPort  intstr.IntOrString
	NodePort    int32
}
