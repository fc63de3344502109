package apiserver

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/satoken"
	"github.com/svcplane/svcplane/internal/storage"
)

// ObjectReader reads the core objects service account tokens are checked
// against straight from storage, so that a token stops working as soon as
// its ServiceAccount or pod is deleted. It needs no Server, so the token
// authenticator can be built before the resources that use it.
type ObjectReader struct {
	serviceAccounts, pods, secrets, nodes *objstore.Store
}

var _ satoken.Objects = (*ObjectReader)(nil)

// NewObjectReader reads from store.
func NewObjectReader(store storage.Store) *ObjectReader {
	c := codec.New()
	mk := func(resource, kind string, namespaced bool, newObj func() runtime.Object) *objstore.Store {
		return objstore.New(objstore.Config{Storage: store, Codec: c, Resource: schema.GroupResource{Resource: resource},
			Kind: corev1.SchemeGroupVersion.WithKind(kind), New: newObj, Namespaced: namespaced})
	}
	return &ObjectReader{
		serviceAccounts: mk("serviceaccounts", "ServiceAccount", true, func() runtime.Object { return &corev1.ServiceAccount{} }),
		pods:            mk("pods", "Pod", true, func() runtime.Object { return &corev1.Pod{} }),
		secrets:         mk("secrets", "Secret", true, func() runtime.Object { return &corev1.Secret{} }),
		nodes:           mk("nodes", "Node", false, func() runtime.Object { return &corev1.Node{} }),
	}
}

func getAs[T runtime.Object](ctx context.Context, s *objstore.Store, ns, name string) (T, error) {
	var zero T
	obj, err := s.Get(ctx, ns, name)
	if err != nil {
		return zero, err
	}
	t, ok := obj.(T)
	if !ok {
		return zero, fmt.Errorf("stored %s/%s is a %T", ns, name, obj)
	}
	return t, nil
}

// ServiceAccount reads a ServiceAccount.
func (o *ObjectReader) ServiceAccount(ctx context.Context, ns, name string) (*corev1.ServiceAccount, error) {
	return getAs[*corev1.ServiceAccount](ctx, o.serviceAccounts, ns, name)
}

// Pod reads a Pod.
func (o *ObjectReader) Pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	return getAs[*corev1.Pod](ctx, o.pods, ns, name)
}

// Secret reads a Secret.
func (o *ObjectReader) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	return getAs[*corev1.Secret](ctx, o.secrets, ns, name)
}

// Node reads a Node.
func (o *ObjectReader) Node(ctx context.Context, name string) (*corev1.Node, error) {
	return getAs[*corev1.Node](ctx, o.nodes, "", name)
}
