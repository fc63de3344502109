package pod

import (
	"context"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ValidateStatusUpdate checks a write to pods/status: the node may not
// change, the QoS class is immutable, terminated containers stay terminated
// unless the restart policy allows otherwise, and pod and host IPs are valid.
func ValidateStatusUpdate(_ context.Context, pod, old *corev1.Pod) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validatePodConditions(pod.Status.Conditions, field.NewPath("metadata", "conditions"))...)
	statusPath := field.NewPath("status")
	if pod.Spec.NodeName != old.Spec.NodeName {
		errs = append(errs, field.Forbidden(statusPath.Child("nodeName"), "may not be changed directly"))
	}
	if n := pod.Status.NominatedNodeName; n != old.Status.NominatedNodeName {
		errs = append(errs, validateName(n, apivalidation.NameIsDNSSubdomain, statusPath.Child("nominatedNodeName"))...)
	}
	errs = append(errs, apivalidation.ValidateImmutableField(pod.Status.QOSClass, old.Status.QOSClass, statusPath.Child("qosClass"))...)
	errs = append(errs, validateStateTransitions(pod.Status.ContainerStatuses, old.Status.ContainerStatuses,
		statusPath.Child("containerStatuses"), old.Spec.RestartPolicy, nil)...)
	errs = append(errs, validateStateTransitions(pod.Status.InitContainerStatuses, old.Status.InitContainerStatuses,
		statusPath.Child("initContainerStatuses"), old.Spec.RestartPolicy, sidecars(old.Spec.InitContainers))...)
	errs = append(errs, validateIPs(podIPs(&pod.Status), statusPath.Child("podIPs"))...)
	return append(errs, validateHostIPs(&pod.Status, statusPath.Child("hostIPs"))...)
}

// validatePodConditions checks custom condition types. The path is
// "metadata.conditions[i].Type", as upstream reports it.
func validatePodConditions(conds []corev1.PodCondition, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	system := sets.New(corev1.PodScheduled, corev1.PodReady, corev1.PodInitialized)
	for i, c := range conds {
		if !system.Has(c.Type) {
			errs = append(errs, invalidEach(p.Index(i).Child("Type"), string(c.Type), validation.IsQualifiedName(string(c.Type)))...)
		}
	}
	return errs
}

// sidecars returns the names of the restartable init containers, which may
// leave the terminated state whatever the pod's restart policy.
func sidecars(inits []corev1.Container) sets.Set[string] {
	names := sets.New[string]()
	for _, c := range inits {
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			names.Insert(c.Name)
		}
	}
	return names
}

// validateStateTransitions forbids moving a terminated container back to
// running unless the restart policy (Always, or OnFailure after a failure)
// allows it.
func validateStateTransitions(statuses, old []corev1.ContainerStatus, p *field.Path, policy corev1.RestartPolicy, sidecars sets.Set[string]) field.ErrorList {
	if policy == corev1.RestartPolicyAlways {
		return nil
	}
	var errs field.ErrorList
	for i, o := range old {
		term := o.State.Terminated
		if term == nil || (term.ExitCode != 0 && policy == corev1.RestartPolicyOnFailure) || sidecars.Has(o.Name) {
			continue
		}
		for _, s := range statuses {
			if s.Name == o.Name && s.State.Terminated == nil {
				errs = append(errs, field.Forbidden(p.Index(i).Child("state"), "may not be transitioned to non-terminated state"))
			}
		}
	}
	return errs
}

// validateIPs requires valid IPs, at most one per family, no duplicates;
// pod and host IPs share the {"ip": ...} shape the errors print.
func validateIPs(ips []string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	values := make([]corev1.PodIP, len(ips))
	for i, ip := range ips {
		values[i] = corev1.PodIP{IP: ip}
		errs = append(errs, validation.IsValidIP(p.Index(i), ip)...)
	}
	if len(ips) <= 1 {
		return errs
	}
	if !isDualStack(ips) {
		errs = append(errs, field.Invalid(p, values, "may specify no more than one IP for each IP family"))
	}
	seen := sets.New[string]()
	for i, ip := range ips {
		if seen.Has(ip) {
			errs = append(errs, field.Duplicate(p.Index(i), values[i]))
		}
		seen.Insert(ip)
	}
	return errs
}

func podIPs(status *corev1.PodStatus) []string {
	ips := make([]string, len(status.PodIPs))
	for i, ip := range status.PodIPs {
		ips[i] = ip.IP
	}
	return ips
}

func validateHostIPs(status *corev1.PodStatus, p *field.Path) field.ErrorList {
	if len(status.HostIPs) == 0 {
		return nil
	}
	var errs field.ErrorList
	if status.HostIP != status.HostIPs[0].IP {
		errs = append(errs, field.Invalid(p.Index(0).Child("ip"), status.HostIPs[0].IP, "must be equal to `hostIP`"))
	}
	ips := make([]string, len(status.HostIPs))
	for i, ip := range status.HostIPs {
		ips[i] = ip.IP
	}
	return append(errs, validateIPs(ips, p)...)
}

// isDualStack is true for exactly one IPv4 and one IPv6 address.
func isDualStack(ips []string) bool {
	if len(ips) != 2 {
		return false
	}
	a, errA := netip.ParseAddr(ips[0])
	b, errB := netip.ParseAddr(ips[1])
	return errA == nil && errB == nil && a.Unmap().Is4() != b.Unmap().Is4()
}
