package pod

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// downwardLabels are the pod fields a v1 downward API fieldPath may name
// (upstream's field label conversion); envFieldPaths those an env var may
// read.
var (
	downwardLabels = sets.New("metadata.annotations", "metadata.labels", "metadata.name",
		"metadata.namespace", "metadata.uid", "spec.nodeName", "spec.restartPolicy",
		"spec.serviceAccountName", "spec.schedulerName", "status.phase", "status.hostIP",
		"status.hostIPs", "status.podIP", "status.podIPs")
	envFieldPaths = sets.New("metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs",
		"status.podIP", "status.podIPs")
	envResourceFields = sets.New("limits.cpu", "limits.memory", "limits.ephemeral-storage",
		"requests.cpu", "requests.memory", "requests.ephemeral-storage")
)

func validateEnv(vars []corev1.EnvVar, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	for i, ev := range vars {
		idxPath := fldPath.Index(i)
		if ev.Name == "" {
			errs = append(errs, field.Required(idxPath.Child("name"), ""))
		} else {
			errs = append(errs, validateEnvVarName(ev.Name, idxPath.Child("name"))...)
		}
		if ev.ValueFrom != nil {
			errs = append(errs, validateEnvVarValueFrom(ev, idxPath.Child("valueFrom"))...)
		}
	}
	return errs
}

// validateEnvVarName applies the relaxed rule (printable ASCII but '='):
// RelaxedEnvironmentVariableValidation is on by default since 1.32.
func validateEnvVarName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsRelaxedEnvVarName(name) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func validateEnvVarValueFrom(ev corev1.EnvVar, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	from, sources := ev.ValueFrom, 0
	if from.FieldRef != nil {
		sources++
		errs = append(errs, validateObjectFieldSelector(from.FieldRef, p.Child("fieldRef"))...)
	}
	if from.ResourceFieldRef != nil {
		sources++
		errs = append(errs, validateResourceFieldSelector(from.ResourceFieldRef, p.Child("resourceFieldRef"))...)
	}
	if ref := from.ConfigMapKeyRef; ref != nil {
		sources++
		errs = append(errs, validateKeySelector(ref.Name, ref.Key, p.Child("configMapKeyRef"))...)
	}
	if ref := from.SecretKeyRef; ref != nil {
		sources++
		errs = append(errs, validateKeySelector(ref.Name, ref.Key, p.Child("secretKeyRef"))...)
	}
	switch {
	case sources == 0:
		errs = append(errs, field.Invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case ev.Value != "":
		errs = append(errs, field.Invalid(p, "", "may not be specified when `value` is not empty"))
	case sources > 1:
		errs = append(errs, field.Invalid(p, "", "may not have more than one field specified at a time"))
	}
	return errs
}

func validateObjectFieldSelector(fs *corev1.ObjectFieldSelector, p *field.Path) field.ErrorList {
	switch {
	case fs.APIVersion == "":
		return field.ErrorList{field.Required(p.Child("apiVersion"), "")}
	case fs.FieldPath == "":
		return field.ErrorList{field.Required(p.Child("fieldPath"), "")}
	case fs.APIVersion != "v1":
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), fs.FieldPath,
			fmt.Sprintf("error converting fieldPath: unsupported pod version: %s", fs.APIVersion))}
	}
	if path, subscript, ok := splitSubscript(fs.FieldPath); ok {
		return validateSubscriptedPath(path, subscript, p)
	}
	if !downwardLabels.Has(fs.FieldPath) {
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), fs.FieldPath,
			"error converting fieldPath: field label not supported: "+fs.FieldPath)}
	}
	if !envFieldPaths.Has(fs.FieldPath) {
		return field.ErrorList{field.NotSupported(p.Child("fieldPath"), fs.FieldPath, sets.List(envFieldPaths))}
	}
	return nil
}

// splitSubscript splits "metadata.labels['key']" into path and key.
func splitSubscript(fieldPath string) (string, string, bool) {
	path, rest, ok := strings.Cut(fieldPath, "['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", "", false
	}
	return path, strings.TrimSuffix(rest, "']"), true
}

func validateSubscriptedPath(path, subscript string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path == "metadata.annotations" {
		subscript = strings.ToLower(subscript)
	} else if path != "metadata.labels" {
		return field.ErrorList{field.Invalid(p.Child("fieldPath"), path+"['"+subscript+"']",
			"error converting fieldPath: field label does not support subscript: "+path)}
	}
	for _, msg := range validation.IsQualifiedName(subscript) {
		errs = append(errs, field.Invalid(p, subscript, msg))
	}
	return errs
}

func validateResourceFieldSelector(fs *corev1.ResourceFieldSelector, p *field.Path) field.ErrorList {
	switch {
	case fs.Resource == "":
		return field.ErrorList{field.Required(p.Child("resource"), "")}
	case envResourceFields.Has(fs.Resource),
		strings.HasPrefix(fs.Resource, "requests.hugepages-"),
		strings.HasPrefix(fs.Resource, "limits.hugepages-"):
		return nil
	}
	return field.ErrorList{field.NotSupported(p.Child("resource"), fs.Resource, sets.List(envResourceFields))}
}

func validateKeySelector(name, key string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(p.Child("name"), name, msg))
	}
	if key == "" {
		return append(errs, field.Required(p.Child("key"), ""))
	}
	for _, msg := range validation.IsConfigMapKey(key) {
		errs = append(errs, field.Invalid(p.Child("key"), key, msg))
	}
	return errs
}

// validateSecurityContext checks the user and group IDs of a container.
func validateSecurityContext(sc *corev1.SecurityContext, p *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	var errs field.ErrorList
	if sc.RunAsUser != nil {
		for _, msg := range validation.IsValidUserID(*sc.RunAsUser) {
			errs = append(errs, field.Invalid(p.Child("runAsUser"), *sc.RunAsUser, msg))
		}
	}
	if sc.RunAsGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.RunAsGroup) {
			errs = append(errs, field.Invalid(p.Child("runAsGroup"), *sc.RunAsGroup, msg))
		}
	}
	return errs
}
