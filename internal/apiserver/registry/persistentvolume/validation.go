package persistentvolume

import (
	"path"
	"reflect"
	"strings"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Upstream's supported values, sorted as its messages list them.
var (
	accessModes    = []string{"ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod"}
	reclaimPolicy  = []string{"Delete", "Recycle", "Retain"}
	volumeModes    = []string{"Block", "Filesystem"}
	selectorValues = []string{"DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"}
)

// Validate checks a volume as upstream's ValidatePersistentVolume.
func Validate(pv *corev1.PersistentVolume) field.ErrorList {
	p := field.NewPath("spec")
	spec := &pv.Spec
	errs := validateAccessModes(spec.AccessModes, p.Child("accessModes"), "")
	errs = append(errs, validateCapacity(spec.Capacity, p.Child("capacity"))...)
	if r := spec.PersistentVolumeReclaimPolicy; r != "" && !contains(reclaimPolicy, string(r)) {
		errs = append(errs, field.NotSupported(p.Child("persistentVolumeReclaimPolicy"), r, reclaimPolicy))
	}
	hasAffinity := false
	if spec.NodeAffinity != nil {
		hasAffinity = spec.NodeAffinity.Required != nil
		errs = append(errs, validateNodeAffinity(spec.NodeAffinity, p.Child("nodeAffinity"))...)
	}
	errs = append(errs, validateSource(&spec.PersistentVolumeSource, p)...)
	if spec.Local != nil && !hasAffinity {
		errs = append(errs, field.Required(field.NewPath("metadata", "annotations"), "Local volume requires node affinity"))
	}
	if spec.HostPath != nil && path.Clean(spec.HostPath.Path) == "/" && spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRecycle {
		errs = append(errs, field.Forbidden(p.Child("persistentVolumeReclaimPolicy"), "may not be 'recycle' for a hostPath mount of '/'"))
	}
	errs = append(errs, validateClassName(spec.StorageClassName, p.Child("storageClassName"))...)
	return append(errs, validateVolumeMode(spec.VolumeMode, p.Child("volumeMode"))...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// validateAccessModes requires at least one known mode and
// ReadWriteOncePod alone.
func validateAccessModes(modes []corev1.PersistentVolumeAccessMode, p *field.Path, requiredMsg string) field.ErrorList {
	var errs field.ErrorList
	if len(modes) == 0 {
		errs = append(errs, field.Required(p, requiredMsg))
	}
	rwop, other := false, false
	for _, m := range modes {
		if !contains(accessModes, string(m)) {
			errs = append(errs, field.NotSupported(p, m, accessModes))
		}
		if m == corev1.ReadWriteOncePod {
			rwop = true
		} else {
			other = true
		}
	}
	if rwop && other {
		errs = append(errs, field.Forbidden(p, "may not use ReadWriteOncePod with other access modes"))
	}
	return errs
}

func validateCapacity(capacity corev1.ResourceList, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if len(capacity) == 0 {
		errs = append(errs, field.Required(p, ""))
	}
	if _, ok := capacity[corev1.ResourceStorage]; !ok || len(capacity) > 1 {
		errs = append(errs, field.NotSupported(p, capacity, []string{string(corev1.ResourceStorage)}))
	}
	for name, q := range capacity {
		errs = append(errs, validatePositive(q, p.Key(string(name)))...)
	}
	return errs
}

func validatePositive(q resource.Quantity, p *field.Path) field.ErrorList {
	if q.Cmp(resource.Quantity{}) <= 0 {
		return field.ErrorList{field.Invalid(p, q.String(), "must be greater than zero")}
	}
	return nil
}

func validateClassName(name string, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	if name == "" {
		return nil
	}
	for _, msg := range apivalidation.NameIsDNSSubdomain(name, false) {
		errs = append(errs, field.Invalid(p, name, msg))
	}
	return errs
}

func validateVolumeMode(m *corev1.PersistentVolumeMode, p *field.Path) field.ErrorList {
	if m != nil && !contains(volumeModes, string(*m)) {
		return field.ErrorList{field.NotSupported(p, *m, volumeModes)}
	}
	return nil
}

// validateSource requires exactly one volume source and checks the
// hostPath and local ones, the sources svcplane's agent mounts.
func validateSource(src *corev1.PersistentVolumeSource, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	v := reflect.ValueOf(src).Elem()
	n := 0
	for i := range v.NumField() {
		if v.Field(i).IsNil() {
			continue
		}
		name, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("json"), ",")
		if n++; n > 1 {
			errs = append(errs, field.Forbidden(p.Child(name), "may not specify more than 1 volume type"))
		}
	}
	if n == 0 {
		errs = append(errs, field.Required(p, "must specify a volume type"))
	}
	if hp := src.HostPath; hp != nil {
		errs = append(errs, validateLocalPath(hp.Path, p.Child("hostPath", "path"), false)...)
	}
	if l := src.Local; l != nil {
		errs = append(errs, validateLocalPath(l.Path, p.Child("local", "path"), true)...)
	}
	return errs
}

func validateLocalPath(s string, p *field.Path, absolute bool) field.ErrorList {
	if s == "" {
		return field.ErrorList{field.Required(p, "")}
	}
	var errs field.ErrorList
	if absolute && !path.IsAbs(s) {
		errs = append(errs, field.Invalid(p, s, "must be an absolute path"))
	}
	for _, item := range strings.Split(s, "/") {
		if item == ".." {
			errs = append(errs, field.Invalid(p, s, "must not contain '..'"))
			break
		}
	}
	return errs
}

// validateNodeAffinity checks a volume's required node selector.
func validateNodeAffinity(na *corev1.VolumeNodeAffinity, p *field.Path) field.ErrorList {
	if na.Required == nil {
		return field.ErrorList{field.Required(p.Child("required"), "must specify required node constraints")}
	}
	rp := p.Child("required")
	terms := na.Required.NodeSelectorTerms
	if len(terms) == 0 {
		return field.ErrorList{field.Required(rp.Child("nodeSelectorTerms"), "must have at least one node selector term")}
	}
	var errs field.ErrorList
	for i, t := range terms {
		tp := rp.Child("nodeSelectorTerms").Index(i)
		for j, r := range t.MatchExpressions {
			errs = append(errs, validateRequirement(r, tp.Child("matchExpressions").Index(j))...)
		}
		for j, r := range t.MatchFields {
			errs = append(errs, validateRequirement(r, tp.Child("matchFields").Index(j))...)
		}
	}
	return errs
}

func validateRequirement(r corev1.NodeSelectorRequirement, p *field.Path) field.ErrorList {
	var errs field.ErrorList
	switch r.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(r.Values) == 0 {
			errs = append(errs, field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
		}
	case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
		if len(r.Values) > 0 {
			errs = append(errs, field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
		}
	case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
		if len(r.Values) != 1 {
			errs = append(errs, field.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
		}
	default:
		errs = append(errs, field.NotSupported(p.Child("operator"), r.Operator, selectorValues))
	}
	return append(errs, metav1validation.ValidateLabelName(r.Key, p.Child("key"))...)
}

// ValidateUpdate also keeps the source, the volume mode and a set node
// affinity.
func ValidateUpdate(pv, old *corev1.PersistentVolume) field.ErrorList {
	errs := Validate(pv)
	if !equality.Semantic.DeepEqual(pv.Spec.PersistentVolumeSource, old.Spec.PersistentVolumeSource) {
		diff := cmp.Diff(old.Spec.PersistentVolumeSource, pv.Spec.PersistentVolumeSource)
		errs = append(errs, field.Forbidden(field.NewPath("spec", "persistentvolumesource"), "spec.persistentvolumesource is immutable after creation\n"+diff))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(pv.Spec.VolumeMode, old.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if old.Spec.NodeAffinity != nil && !equality.Semantic.DeepEqual(pv.Spec.NodeAffinity, old.Spec.NodeAffinity) {
		errs = append(errs, field.Forbidden(field.NewPath("nodeAffinity"), "field is immutable"))
	}
	return errs
}

// ValidateClaim checks a claim as upstream's
// ValidatePersistentVolumeClaim.
func ValidateClaim(c *corev1.PersistentVolumeClaim) field.ErrorList {
	p := field.NewPath("spec")
	spec := &c.Spec
	errs := validateAccessModes(spec.AccessModes, p.Child("accessModes"), "at least 1 access mode is required")
	if spec.Selector != nil {
		errs = append(errs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, p.Child("selector"))...)
	}
	rp := p.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		errs = append(errs, field.Required(rp, ""))
	} else {
		errs = append(errs, validatePositive(q, rp)...)
	}
	if spec.StorageClassName != nil {
		errs = append(errs, validateClassName(*spec.StorageClassName, p.Child("storageClassName"))...)
	}
	return append(errs, validateVolumeMode(spec.VolumeMode, p.Child("volumeMode"))...)
}

// ValidateClaimUpdate keeps the spec but for volumeName (set once) and,
// on a bound claim, a storage request not below the capacity.
func ValidateClaimUpdate(c, old *corev1.PersistentVolumeClaim) field.ErrorList {
	errs := ValidateClaim(c)
	newSpec, oldSpec := c.Spec.DeepCopy(), old.Spec.DeepCopy()
	if oldSpec.VolumeName == "" {
		oldSpec.VolumeName = newSpec.VolumeName
	}
	if c.Status.Phase == corev1.ClaimBound && newSpec.Resources.Requests != nil {
		newSpec.Resources.Requests[corev1.ResourceStorage] = oldSpec.Resources.Requests[corev1.ResourceStorage]
	}
	if !equality.Semantic.DeepEqual(newSpec, oldSpec) {
		errs = append(errs, field.Forbidden(field.NewPath("spec"),
			"spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n"+cmp.Diff(*oldSpec, *newSpec)))
	}
	size, capacity := c.Spec.Resources.Requests[corev1.ResourceStorage], old.Status.Capacity[corev1.ResourceStorage]
	if c.Status.Phase == corev1.ClaimBound && !capacity.IsZero() && size.Cmp(capacity) < 0 {
		errs = append(errs, field.Forbidden(field.NewPath("spec", "resources", "requests", "storage"), "field can not be less than status.capacity"))
	}
	errs = append(errs, apivalidation.ValidateImmutableField(c.Spec.VolumeMode, old.Spec.VolumeMode, field.NewPath("volumeMode"))...)
	if ann := "volume.beta.kubernetes.io/storage-class"; c.Annotations[ann] != old.Annotations[ann] {
		errs = append(errs, field.Forbidden(field.NewPath("metadata").Child("annotations", ann), "field is immutable"))
	}
	return errs
}

// validateClaimStatus checks the capacity a status update writes.
func validateClaimStatus(c *corev1.PersistentVolumeClaim) field.ErrorList {
	var errs field.ErrorList
	for name, q := range c.Status.Capacity {
		if q.Sign() < 0 {
			errs = append(errs, field.Invalid(field.NewPath("status", "capacity").Key(string(name)), q.String(), "must be greater than or equal to 0"))
		}
	}
	return errs
}
