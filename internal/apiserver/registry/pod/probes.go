package pod

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const moreThanOneHandler = "may not specify more than 1 handler type"

// handler is what probes and lifecycle hooks have in common.
type handler struct {
	Exec      *corev1.ExecAction
	HTTPGet   *corev1.HTTPGetAction
	TCPSocket *corev1.TCPSocketAction
	GRPC      *corev1.GRPCAction
	Sleep     *corev1.SleepAction
}

func validateProbesAndHooks(c *corev1.Container, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if c.Lifecycle != nil {
		errs = append(errs, validateLifecycle(c.Lifecycle, grace, p.Child("lifecycle"))...)
	}
	errs = append(errs, validateProbe(c.LivenessProbe, grace, p.Child("livenessProbe"))...)
	if c.LivenessProbe != nil && c.LivenessProbe.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("livenessProbe", "successThreshold"), c.LivenessProbe.SuccessThreshold, "must be 1"))
	}
	errs = append(errs, validateProbe(c.ReadinessProbe, grace, p.Child("readinessProbe"))...)
	if c.ReadinessProbe != nil && c.ReadinessProbe.TerminationGracePeriodSeconds != nil {
		errs = append(errs, field.Invalid(p.Child("readinessProbe", "terminationGracePeriodSeconds"),
			c.ReadinessProbe.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
	}
	errs = append(errs, validateProbe(c.StartupProbe, grace, p.Child("startupProbe"))...)
	if c.StartupProbe != nil && c.StartupProbe.SuccessThreshold != 1 {
		errs = append(errs, field.Invalid(p.Child("startupProbe", "successThreshold"), c.StartupProbe.SuccessThreshold, "must be 1"))
	}
	return errs
}

func validateProbe(probe *corev1.Probe, grace *int64, p *field.Path) field.ErrorList {
	if probe == nil {
		return nil
	}
	h := handler{Exec: probe.Exec, HTTPGet: probe.HTTPGet, TCPSocket: probe.TCPSocket, GRPC: probe.GRPC}
	errs := validateHandler(h, grace, p)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(probe.InitialDelaySeconds), p.Child("initialDelaySeconds"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(probe.TimeoutSeconds), p.Child("timeoutSeconds"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(probe.PeriodSeconds), p.Child("periodSeconds"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(probe.SuccessThreshold), p.Child("successThreshold"))...)
	errs = append(errs, apivalidation.ValidateNonnegativeField(int64(probe.FailureThreshold), p.Child("failureThreshold"))...)
	if tgps := probe.TerminationGracePeriodSeconds; tgps != nil && *tgps <= 0 {
		errs = append(errs, field.Invalid(p.Child("terminationGracePeriodSeconds"), *tgps, "must be greater than 0"))
	}
	return errs
}

func validateLifecycle(l *corev1.Lifecycle, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if h := l.PostStart; h != nil {
		errs = append(errs, validateHandler(lifecycleHandler(h), grace, p.Child("postStart"))...)
	}
	if h := l.PreStop; h != nil {
		errs = append(errs, validateHandler(lifecycleHandler(h), grace, p.Child("preStop"))...)
	}
	return errs
}

func lifecycleHandler(h *corev1.LifecycleHandler) handler {
	return handler{Exec: h.Exec, HTTPGet: h.HTTPGet, TCPSocket: h.TCPSocket, Sleep: h.Sleep}
}

// validateHandler requires exactly one action and validates it.
func validateHandler(h handler, grace *int64, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	count := 0
	check := func(set bool, name string, validate func(*field.Path) field.ErrorList) {
		switch {
		case !set:
		case count > 0:
			errs = append(errs, field.Forbidden(p.Child(name), moreThanOneHandler))
		default:
			count++
			errs = append(errs, validate(p.Child(name))...)
		}
	}
	check(h.Exec != nil, "exec", func(fp *field.Path) field.ErrorList { return validateExec(h.Exec, fp) })
	check(h.HTTPGet != nil, "httpGet", func(fp *field.Path) field.ErrorList { return validateHTTPGet(h.HTTPGet, fp) })
	check(h.TCPSocket != nil, "tcpSocket", func(fp *field.Path) field.ErrorList { return validatePortNumOrName(h.TCPSocket.Port, fp.Child("port")) })
	check(h.GRPC != nil, "grpc", func(fp *field.Path) field.ErrorList { return validatePortNum(h.GRPC.Port, fp.Child("port")) })
	check(h.Sleep != nil, "sleep", func(fp *field.Path) field.ErrorList { return validateSleep(h.Sleep, grace, fp) })
	if count == 0 {
		errs = append(errs, field.Required(p, "must specify a handler type"))
	}
	return errs
}

func validateExec(exec *corev1.ExecAction, p *field.Path) field.ErrorList {
	if len(exec.Command) == 0 {
		return field.ErrorList{field.Required(p.Child("command"), "")}
	}
	return nil
}

func validateHTTPGet(get *corev1.HTTPGetAction, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if get.Path == "" {
		errs = append(errs, field.Required(p.Child("path"), ""))
	}
	errs = append(errs, validatePortNumOrName(get.Port, p.Child("port"))...)
	if get.Scheme != corev1.URISchemeHTTP && get.Scheme != corev1.URISchemeHTTPS {
		errs = append(errs, field.NotSupported(p.Child("scheme"), get.Scheme,
			[]corev1.URIScheme{corev1.URISchemeHTTP, corev1.URISchemeHTTPS}))
	}
	for _, header := range get.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(header.Name) {
			errs = append(errs, field.Invalid(p.Child("httpHeaders"), header.Name, msg))
		}
	}
	return errs
}

func validateSleep(sleep *corev1.SleepAction, grace *int64, p *field.Path) field.ErrorList {
	if grace != nil && (sleep.Seconds < 0 || sleep.Seconds > *grace) {
		msg := fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", *grace)
		return field.ErrorList{field.Invalid(p, sleep.Seconds, msg)}
	}
	return nil
}

// validatePortNumOrName accepts a port number or an IANA_SVC_NAME.
func validatePortNumOrName(port intstr.IntOrString, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if port.Type == intstr.String {
		for _, msg := range validation.IsValidPortName(port.StrVal) {
			errs = append(errs, field.Invalid(p, port.StrVal, msg))
		}
		return errs
	}
	for _, msg := range validation.IsValidPortNum(port.IntValue()) {
		errs = append(errs, field.Invalid(p, port.IntValue(), msg))
	}
	return errs
}
