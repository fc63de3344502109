// Package objstore keeps the objects of one resource in a storage.Store: it
// lays out keys as /registry/<resource>/<namespace>/<name>, encodes objects,
// sets metadata.resourceVersion from the storage revision, and turns storage
// errors into Kubernetes Status errors.
package objstore

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/storage"
)

// Config says which resource a Store holds and where.
type Config struct {
	Storage  storage.Store
	Codec    *codec.Codec
	Resource schema.GroupResource
	Kind     schema.GroupVersionKind
	New      func() runtime.Object
	// Namespaced resources have keys with a namespace segment.
	Namespaced bool
	// Stored, when set, keeps the objects in another type's form.
	Stored *registry.StoredAs
}

// Store keeps the objects of one resource.
type Store struct {
	cfg Config
}

// New returns a Store for one resource.
func New(cfg Config) *Store { return &Store{cfg: cfg} }

// Prefix returns the key prefix of the namespace, or of all namespaces when
// ns is empty. It always ends with a slash.
func (s *Store) Prefix(ns string) string {
	p := "/registry/" + s.cfg.Resource.Resource + "/"
	if s.cfg.Namespaced && ns != "" {
		p += ns + "/"
	}
	return p
}

// Key returns the storage key of one object.
func (s *Store) Key(ns, name string) string {
	return s.Prefix(ns) + name
}

// Decode reads a stored value into a new object carrying rev as its
// resourceVersion and the resource's apiVersion and kind.
func (s *Store) Decode(data []byte, rev int64) (runtime.Object, error) {
	obj, err := s.decode(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", s.cfg.Resource, err)
	}
	obj.GetObjectKind().SetGroupVersionKind(s.cfg.Kind)
	SetResourceVersion(obj, rev)
	return obj, nil
}

func (s *Store) decode(data []byte) (runtime.Object, error) {
	if st := s.cfg.Stored; st != nil {
		obj := st.New()
		if err := s.cfg.Codec.DecodeInto(data, st.Kind, obj); err != nil {
			return nil, err
		}
		return st.FromStorage(obj)
	}
	obj := s.cfg.New()
	return obj, s.cfg.Codec.DecodeInto(data, s.cfg.Kind, obj)
}

func (s *Store) encode(obj runtime.Object) ([]byte, error) {
	obj.GetObjectKind().SetGroupVersionKind(s.cfg.Kind)
	if st := s.cfg.Stored; st != nil {
		stored, err := st.ToStorage(obj)
		if err != nil {
			return nil, err
		}
		stored.GetObjectKind().SetGroupVersionKind(st.Kind)
		obj = stored
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	rv := m.GetResourceVersion()
	m.SetResourceVersion("")
	defer m.SetResourceVersion(rv)
	return s.cfg.Codec.EncodeStorage(obj)
}

// Get reads one object.
func (s *Store) Get(ctx context.Context, ns, name string) (runtime.Object, error) {
	kv, err := s.cfg.Storage.Get(ctx, s.Key(ns, name))
	if err != nil {
		return nil, s.statusError(err, name)
	}
	return s.Decode(kv.Value, kv.ModRevision)
}

// Create stores a new object and returns it as stored.
func (s *Store) Create(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	data, err := s.encode(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	rev, err := s.cfg.Storage.Create(ctx, s.Key(m.GetNamespace(), m.GetName()), data)
	if err != nil {
		return nil, s.statusError(err, m.GetName())
	}
	SetResourceVersion(obj, rev)
	return obj, nil
}

// Update writes obj over the version it was read at (its resourceVersion);
// a newer write in between makes a 409 Conflict.
func (s *Store) Update(ctx context.Context, obj runtime.Object) (runtime.Object, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	rev, err := ParseResourceVersion(m.GetResourceVersion())
	if err != nil {
		return nil, err
	}
	if rev == 0 {
		return nil, apierrors.NewInternalError(fmt.Errorf("update of %s %q without a resourceVersion", s.cfg.Resource, m.GetName()))
	}
	data, err := s.encode(obj)
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	newRev, err := s.cfg.Storage.Update(ctx, s.Key(m.GetNamespace(), m.GetName()), data, rev)
	if err != nil {
		return nil, s.statusError(err, m.GetName())
	}
	SetResourceVersion(obj, newRev)
	return obj, nil
}

// Delete removes the object if it is still at rev (0: whatever it is) and
// returns the revision of the delete.
func (s *Store) Delete(ctx context.Context, ns, name string, rev int64) (int64, error) {
	r, err := s.cfg.Storage.Delete(ctx, s.Key(ns, name), rev)
	if err != nil {
		return 0, s.statusError(err, name)
	}
	return r, nil
}

// statusError turns a storage error into the Status error a client sees.
func (s *Store) statusError(err error, name string) error {
	gr := s.cfg.Resource
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, storage.ErrExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, storage.ErrConflict):
		return apierrors.NewConflict(gr, name, errors.New(ConflictMessage))
	case errors.Is(err, storage.ErrCompacted):
		return apierrors.NewResourceExpired("The resourceVersion for the provided list is too old.")
	case errors.Is(err, storage.ErrFutureRevision):
		return apierrors.NewTimeoutError("Too large resource version", 1)
	case errors.Is(err, storage.ErrNoSpace):
		return noSpace(err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError(err.Error(), 1)
	}
	return apierrors.NewInternalError(err)
}

// noSpace is the answer to a write refused for lack of space: 507
// Insufficient Storage with the reason in the message. (kube-apiserver
// passes etcd's "etcdserver: mvcc: database space exceeded" on as a 500;
// 507 says the same with a code clients and monitors can tell apart from a
// server bug.)
func noSpace(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusInsufficientStorage, Reason: metav1.StatusReasonUnknown,
		Message: err.Error(),
	}}
}

// ConflictMessage is kube-apiserver's text for a stale update.
const ConflictMessage = "the object has been modified; please apply your changes to the latest version and try again"

// SetResourceVersion writes rev into the object's metadata.
func SetResourceVersion(obj runtime.Object, rev int64) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetResourceVersion(strconv.FormatInt(rev, 10))
	}
}

// ParseResourceVersion reads a resourceVersion; "" is 0.
func ParseResourceVersion(rv string) (int64, error) {
	if rv == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(rv, 10, 64)
	if err != nil || n < 0 {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version %q", rv))
	}
	return n, nil
}
