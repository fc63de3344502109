package pod

import (
	"path"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// defaultVolume gives a volume without a source an emptyDir and fills in
// the file modes and types upstream defaults.
func defaultVolume(v *corev1.Volume) {
	if len(volumeSources(&v.VolumeSource)) == 0 {
		v.EmptyDir = &corev1.EmptyDirVolumeSource{}
	}
	if v.Secret != nil && v.Secret.DefaultMode == nil {
		v.Secret.DefaultMode = fileMode(corev1.SecretVolumeSourceDefaultMode)
	}
	if v.ConfigMap != nil && v.ConfigMap.DefaultMode == nil {
		v.ConfigMap.DefaultMode = fileMode(corev1.ConfigMapVolumeSourceDefaultMode)
	}
	if v.DownwardAPI != nil && v.DownwardAPI.DefaultMode == nil {
		v.DownwardAPI.DefaultMode = fileMode(corev1.DownwardAPIVolumeSourceDefaultMode)
	}
	if v.HostPath != nil && v.HostPath.Type == nil {
		unset := corev1.HostPathUnset
		v.HostPath.Type = &unset
	}
	if v.Projected != nil {
		defaultProjected(v.Projected)
	}
}

func defaultProjected(p *corev1.ProjectedVolumeSource) {
	if p.DefaultMode == nil {
		p.DefaultMode = fileMode(corev1.ProjectedVolumeSourceDefaultMode)
	}
	for i := range p.Sources {
		if token := p.Sources[i].ServiceAccountToken; token != nil && token.ExpirationSeconds == nil {
			hour := int64(3600)
			token.ExpirationSeconds = &hour
		}
	}
}

func fileMode(mode int32) *int32 { return &mode }

// volumeSources returns the JSON names of the sources set in src, in
// declaration order.
func volumeSources(src *corev1.VolumeSource) []string {
	var names []string
	v := reflect.ValueOf(src).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Field(i).Kind() == reflect.Pointer && !v.Field(i).IsNil() {
			tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
			names = append(names, tag)
		}
	}
	return names
}

// validateVolumes checks names and sources and returns the valid volumes by
// name, for the container volume mounts to refer to.
func validateVolumes(volumes []corev1.Volume, fldPath *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var errs field.ErrorList
	valid := map[string]corev1.VolumeSource{}
	for i := range volumes {
		vol := &volumes[i]
		idxPath := fldPath.Index(i)
		el := validateVolumeSource(&vol.VolumeSource, idxPath)
		if vol.Name == "" {
			el = append(el, field.Required(idxPath.Child("name"), ""))
		} else {
			el = append(el, validateDNS1123Label(vol.Name, idxPath.Child("name"))...)
		}
		if _, dup := valid[vol.Name]; dup {
			el = append(el, field.Duplicate(idxPath.Child("name"), vol.Name))
		}
		if len(el) == 0 {
			valid[vol.Name] = vol.VolumeSource
		}
		errs = append(errs, el...)
	}
	return valid, errs
}

func validateVolumeSource(src *corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	names := volumeSources(src)
	if len(names) == 0 {
		return field.ErrorList{field.Required(fldPath, "must specify a volume type")}
	}
	for _, extra := range names[1:] {
		errs = append(errs, field.Forbidden(fldPath.Child(extra), "may not specify more than 1 volume type"))
	}
	if src.HostPath != nil && src.HostPath.Path == "" {
		errs = append(errs, field.Required(fldPath.Child("hostPath", "path"), ""))
	}
	return errs
}

// validateVolumeMounts checks the mounts of one container against the pod's
// valid volumes. Like upstream, sub-path errors name the list, not the item.
func validateVolumeMounts(mounts []corev1.VolumeMount, volumes map[string]corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	mountPoints := sets.New[string]()
	for i, m := range mounts {
		idxPath := fldPath.Index(i)
		if m.Name == "" {
			errs = append(errs, field.Required(idxPath.Child("name"), ""))
		}
		if _, ok := volumes[m.Name]; !ok {
			errs = append(errs, field.NotFound(idxPath.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			errs = append(errs, field.Required(idxPath.Child("mountPath"), ""))
		}
		if mountPoints.Has(m.MountPath) {
			errs = append(errs, field.Invalid(idxPath.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPoints.Insert(m.MountPath)
		if m.SubPath != "" {
			errs = append(errs, validateLocalDescendingPath(m.SubPath, fldPath.Child("subPath"))...)
		}
	}
	return errs
}

func validateLocalDescendingPath(target string, fldPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if path.IsAbs(target) {
		errs = append(errs, field.Invalid(fldPath, target, "must be a relative path"))
	}
	for _, part := range strings.Split(target, "/") {
		if part == ".." {
			errs = append(errs, field.Invalid(fldPath, target, "must not contain '..'"))
			break
		}
	}
	return errs
}
