package endpointutil

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// SliceWrites is a set of EndpointSlice writes.
type SliceWrites struct {
	Create, Update, Delete []*discoveryv1.EndpointSlice
}

// ApplySlices makes the writes (creates, then updates, stopping at the
// first failure; then every delete) and records each in the tracker.
// Creates refused because the namespace is terminating end it quietly.
func ApplySlices(ctx context.Context, client kubernetes.Interface, tracker *SliceTracker, w SliceWrites) error {
	for _, s := range w.Create {
		created, err := client.DiscoveryV1().EndpointSlices(s.Namespace).Create(ctx, s, metav1.CreateOptions{})
		if apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			return nil // creates keep failing while the namespace goes away
		}
		if err != nil {
			return fmt.Errorf("create EndpointSlice: %w", err)
		}
		tracker.Update(created)
	}
	for _, s := range w.Update {
		updated, err := client.DiscoveryV1().EndpointSlices(s.Namespace).Update(ctx, s, metav1.UpdateOptions{})
		if err != nil {
			return fmt.Errorf("update EndpointSlice %s: %w", s.Name, err)
		}
		tracker.Update(updated)
	}
	var errs []error
	for _, s := range w.Delete {
		err := client.DiscoveryV1().EndpointSlices(s.Namespace).Delete(ctx, s.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete EndpointSlice %s: %w", s.Name, err))
			continue
		}
		tracker.ExpectDeletion(s)
	}
	return errors.Join(errs...)
}
