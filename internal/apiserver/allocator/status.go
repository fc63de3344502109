package allocator

import (
	"fmt"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The errors below are the ones kube-apiserver's Service storage
// (pkg/registry/core/service/storage/alloc.go) returns when allocation
// fails. Requested values that cannot be had are 422 Invalid field errors;
// a range with nothing left is a 500 InternalError.

// ClusterIPFieldError is the field error for a requested cluster IP that
// cannot be allocated. clusterIPs is the Service's spec.clusterIPs as it
// stands (upstream reports the whole list), ip the requested one:
//
//	spec.clusterIPs: Invalid value: ["10.96.0.50"]: failed to allocate IP 10.96.0.50: provided IP is already allocated
func ClusterIPFieldError(clusterIPs []string, ip string, err error) *field.Error {
	return field.Invalid(field.NewPath("spec", "clusterIPs"), append([]string(nil), clusterIPs...),
		fmt.Sprintf("failed to allocate IP %v: %v", ip, err))
}

// NodePortFieldError is the field error for a requested node port of
// spec.ports[index] that cannot be allocated:
//
//	spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated
func NodePortFieldError(index int, nodePort int32, err error) *field.Error {
	return field.Invalid(field.NewPath("spec", "ports").Index(index).Child("nodePort"), nodePort, err.Error())
}

// FamilyFieldError is the field error for an IP family that has no service
// CIDR on this cluster.
func FamilyFieldError(index int, family v1.IPFamily) *field.Error {
	return field.Invalid(field.NewPath("spec", "ipFamilies").Index(index), family, "not configured on this cluster")
}

// InvalidService wraps field errors into the 422 Status kube-apiserver
// returns; kubectl prints it as `The Service "name" is invalid: <errors>`.
func InvalidService(name string, errs ...*field.Error) *apierrors.StatusError {
	return apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, name, field.ErrorList(errs))
}

// ClusterIPInternalError is the Status for a failed dynamic cluster IP
// allocation: "Internal error occurred: failed to allocate a serviceIP: range is full".
func ClusterIPInternalError(err error) *apierrors.StatusError {
	return apierrors.NewInternalError(fmt.Errorf("failed to allocate a serviceIP: %v", err))
}

// NodePortInternalError is the Status for a failed dynamic node port
// allocation: "Internal error occurred: failed to allocate a nodePort: range is full".
func NodePortInternalError(err error) *apierrors.StatusError {
	return apierrors.NewInternalError(fmt.Errorf("failed to allocate a nodePort: %v", err))
}

// HealthCheckNodePortError is the Status for a failed health check node
// port allocation; requested is the user's value, 0 if none was given.
func HealthCheckNodePortError(requested int32, err error) *apierrors.StatusError {
	if requested != 0 {
		return apierrors.NewInternalError(fmt.Errorf("failed to allocate requested HealthCheck NodePort %v: %v", requested, err))
	}
	return apierrors.NewInternalError(fmt.Errorf("failed to allocate a HealthCheck NodePort %v: %v", requested, err))
}
