// Package service holds the write rules of the core/v1 Service resource as
// kube-apiserver applies them: v1 defaulting, the ipFamilies/ipFamilyPolicy
// initialisation the Service registry does before allocating cluster IPs,
// validation with upstream's field paths and messages, the update fix-ups
// (keeping allocated values, dropping fields a type change makes
// meaningless) and the warnings sent back to clients.
//
// Everything here is a pure function on *corev1.Service. Allocation of
// cluster IPs and node ports belongs to internal/apiserver/allocator; the
// REST layer calls the two in this order (upstream's order):
//
// Create:
//
//	Default(svc)                         // scheme defaulting, on decode
//	errs := BeginCreate(svc, cfg)        // clusterIP(s) sync, ipFamilies/ipFamilyPolicy; 422 if errs
//	... allocate clusterIPs (per spec.ipFamilies), nodePorts, healthCheckNodePort ...
//	PrepareForCreate(svc)                // status reset
//	errs = Validate(svc, cfg)            // plus ObjectMeta with ValidateName; 422 if errs
//	warnings := Warnings(svc, nil)
//
// Update (old is the stored object, never modified):
//
//	Default(svc)
//	errs := BeginUpdate(svc, old, cfg)   // PatchAllocatedValues, clusterIP(s) sync, ipFamilies; 422 if errs
//	... allocate/release clusterIPs and ports for the change old -> svc ...
//	PrepareForUpdate(svc, old)           // keep old status, DropTypeDependentFields
//	errs = ValidateUpdate(svc, old, cfg) // 422 if errs
//	warnings := Warnings(svc, old)
//
// Status update: Default(svc), PrepareForStatusUpdate(svc, old),
// ValidateStatusUpdate(svc, old), StatusWarnings(svc).
//
// Strategy(cfg) wraps Default, the Prepare*, Validate* and Warnings
// functions and the field selector set for the generic REST layer; the
// Begin* steps and allocation are Service specific and are called by the
// REST layer directly.
package service
