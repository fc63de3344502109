// Package registry describes the resources the API server serves: their
// names as discovery shows them, their Go types, and the strategy the REST
// layer calls on every write (defaulting, validation, fields the client may
// not set) and read (selectable fields).
//
// Each resource's strategy lives in its own subpackage (registry/service,
// registry/pod, ...) as plain functions on the typed object; Typed adapts
// them to the untyped Strategy the REST layer uses.
package registry

import (
	"context"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource is one served resource.
type Resource struct {
	// GroupVersion and the plural resource name, e.g. apps/v1 deployments.
	GroupVersion schema.GroupVersion
	Name         string
	// Singular, Kind and ListKind as discovery reports them.
	Singular string
	Kind     string
	ListKind string
	// Namespaced resources live in a namespace; the others are cluster-wide.
	Namespaced bool
	ShortNames []string
	Categories []string
	// Subresources served besides the main one: "status", "scale".
	Subresources []string
	// ValidateName checks metadata.name (and generateName with prefix set),
	// as k8s.io/apimachinery/pkg/api/validation.NameIsDNSSubdomain does;
	// nil means NameIsDNSSubdomain.
	ValidateName func(name string, prefix bool) []string
	// New and NewList return empty objects of the resource's types.
	New     func() runtime.Object
	NewList func() runtime.Object
	// Strategy holds the resource's write and read rules.
	Strategy Strategy
	// Stored, when set, keeps the objects in another type's form under
	// that type's keys: one object served by two APIs (events.k8s.io/v1
	// Events are core/v1 Events). Nil stores the resource's own type.
	Stored *StoredAs
	// Hooks, when set, act around storage writes.
	Hooks Hooks
	// SubresourceUpdates are subresources (also listed in Subresources)
	// written like status but with their own rules, e.g. a
	// CertificateSigningRequest's "approval".
	SubresourceUpdates map[string]SubresourceUpdate
	// Verbs, when set, are the only verbs the resource serves and discovery
	// lists, e.g. ["create"] for the review resources, which are answered
	// and never stored; nil serves every verb.
	Verbs []string
	// OrphanByDefault makes a delete that names no propagation policy
	// orphan the object's dependents, as upstream does for core/v1
	// ReplicationControllers (for compatibility); others are Background.
	OrphanByDefault bool
	// Review, when set, makes the resource create-only and never stored,
	// as upstream's TokenReview and the access reviews are: a POST body
	// is decoded into New(), answered by Review (which may read the
	// request's user with authn.UserFrom(ctx)) and sent back with 201.
	// Discovery lists the verb create only.
	Review func(ctx context.Context, obj runtime.Object) (runtime.Object, error)
}

// SubresourceUpdate is what an update of one subresource may change
// (Prepare resets the rest from old) and how it is checked.
type SubresourceUpdate struct {
	Prepare  func(ctx context.Context, obj, old runtime.Object)
	Validate func(ctx context.Context, obj, old runtime.Object) field.ErrorList
}

// StoredAs is the stored form of a resource kept as another type.
type StoredAs struct {
	// Kind and New are the stored type's.
	Kind schema.GroupVersionKind
	New  func() runtime.Object
	// ToStorage and FromStorage convert between the served and the stored
	// type. The results may share maps and pointers with their inputs.
	ToStorage   func(runtime.Object) (runtime.Object, error)
	FromStorage func(runtime.Object) (runtime.Object, error)
}

// GroupResource returns the resource's group and plural name.
func (r *Resource) GroupResource() schema.GroupResource {
	return schema.GroupResource{Group: r.GroupVersion.Group, Resource: r.Name}
}

// GroupVersionKind returns the kind of the resource's objects.
func (r *Resource) GroupVersionKind() schema.GroupVersionKind {
	return r.GroupVersion.WithKind(r.Kind)
}

// ServedVerbs returns the verbs discovery lists for the main resource.
func (r *Resource) ServedVerbs() []string {
	if r.Verbs != nil {
		return r.Verbs
	}
	if r.Review != nil {
		return []string{"create"}
	}
	return []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}
}

// HasSubresource says whether sub (e.g. "status") is served.
func (r *Resource) HasSubresource(sub string) bool {
	for _, s := range r.Subresources {
		if s == sub {
			return true
		}
	}
	return false
}

// Strategy is what the REST layer calls on objects of one resource. Objects
// passed in are always of the resource's type and owned by the caller.
type Strategy interface {
	// Default fills in defaults, as the scheme defaulters do upstream.
	Default(obj runtime.Object)
	// PrepareForCreate resets what a client may not set on create (status,
	// for resources that have a status subresource).
	PrepareForCreate(ctx context.Context, obj runtime.Object)
	// PrepareForUpdate resets what a client may not change through the main
	// resource (status, for resources with a status subresource).
	PrepareForUpdate(ctx context.Context, obj, old runtime.Object)
	// PrepareForStatusUpdate keeps what a status update may not change:
	// the spec, and the metadata unless the resource says otherwise.
	PrepareForStatusUpdate(ctx context.Context, obj, old runtime.Object)
	// Validate checks a new object; ValidateUpdate a change; the meta
	// fields are checked by the REST layer itself.
	Validate(ctx context.Context, obj runtime.Object) field.ErrorList
	ValidateUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
	ValidateStatusUpdate(ctx context.Context, obj, old runtime.Object) field.ErrorList
	// Warnings returns warning texts for a create or update (old is nil on
	// create), sent back as Warning headers.
	Warnings(ctx context.Context, obj, old runtime.Object) []string
	// FieldSet returns the fields a field selector may name, including
	// metadata.name and metadata.namespace.
	FieldSet(obj runtime.Object) fields.Set
}

// Hooks act around the storage writes of a resource, for what validation
// alone cannot do: allocating a Service's cluster IPs and node ports.
type Hooks interface {
	// BeforeCreate runs after validation, before the object is stored.
	BeforeCreate(ctx context.Context, obj runtime.Object, dryRun bool) (Pending, error)
	// BeforeUpdate runs after validation, before the change is stored.
	BeforeUpdate(ctx context.Context, obj, old runtime.Object, dryRun bool) (Pending, error)
	// AfterDelete runs once the object is gone from storage.
	AfterDelete(ctx context.Context, obj runtime.Object)
}

// Pending is what a hook did, to settle once the write is known: Commit
// after it is stored, Abort when it is not (dry runs included). Either may
// be nil.
type Pending struct {
	Commit func()
	Abort  func()
}

// Settle calls Commit when ok, else Abort.
func (p Pending) Settle(ok bool) {
	switch {
	case ok && p.Commit != nil:
		p.Commit()
	case !ok && p.Abort != nil:
		p.Abort()
	}
}
