package replicaset

import (
	"context"
	"errors"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// manageReplicas creates or deletes pods so that rs has spec.replicas.
func (c *Controller) manageReplicas(ctx context.Context, rs *appsv1.ReplicaSet, pods []*corev1.Pod, key string) error {
	diff := len(pods) - int(replicasOf(rs))
	switch {
	case diff < 0:
		n := min(-diff, c.cfg.BurstReplicas)
		c.exp.ExpectCreations(key, n)
		created, err := SlowStartBatch(n, 1, func() error { return c.createPod(ctx, rs) })
		for range n - created {
			c.exp.CreationObserved(key)
		}
		return err
	case diff > 0:
		n := min(diff, c.cfg.BurstReplicas)
		victims := PodsToDelete(pods, c.relatedPods(rs, pods), n, c.cfg.Now())
		c.exp.ExpectDeletions(key, podKeys(victims))
		return c.deletePods(ctx, rs, victims, key)
	}
	return nil
}

// SlowStartBatch calls fn count times in batches that double in size
// from initial, stopping after the first batch with an error; it returns
// how many calls succeeded and the first error.
func SlowStartBatch(count, initial int, fn func() error) (int, error) {
	done := 0
	for batch := min(count, initial); batch > 0; batch = min(2*batch, count-done) {
		errs := make(chan error, batch)
		var wg sync.WaitGroup
		for range batch {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := fn(); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		done += batch - len(errs)
		if err, failed := <-errs; failed {
			return done, err
		}
	}
	return done, nil
}

func (c *Controller) createPod(ctx context.Context, rs *appsv1.ReplicaSet) error {
	pod, err := podFromTemplate(rs, c.kind.GVK())
	if err != nil {
		return err
	}
	created, err := c.cfg.Client.CoreV1().Pods(rs.Namespace).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause) {
			c.cfg.Recorder.Eventf(c.kind.Object(rs), corev1.EventTypeWarning, "FailedCreate", "Error creating: %v", err)
		}
		return err
	}
	c.cfg.Recorder.Eventf(c.kind.Object(rs), corev1.EventTypeNormal, "SuccessfulCreate", "Created pod: %v", created.Name)
	return nil
}

// deletePods deletes victims in parallel; a deletion that fails is no
// longer expected.
func (c *Controller) deletePods(ctx context.Context, rs *appsv1.ReplicaSet, victims []*corev1.Pod, key string) error {
	errs := make([]error, len(victims))
	var wg sync.WaitGroup
	for i, p := range victims {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.cfg.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{})
			switch {
			case err == nil:
				c.cfg.Recorder.Eventf(c.kind.Object(rs), corev1.EventTypeNormal, "SuccessfulDelete", "Deleted pod: %v", p.Name)
			case apierrors.IsNotFound(err):
				c.exp.DeletionObserved(key, p.Namespace+"/"+p.Name)
			default:
				c.exp.DeletionObserved(key, p.Namespace+"/"+p.Name)
				c.cfg.Recorder.Eventf(c.kind.Object(rs), corev1.EventTypeWarning, "FailedDelete", "Error deleting: %v", err)
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// relatedPods are the active pods of every ReplicaSet sharing rs's
// controller (a Deployment's old and new ReplicaSets), or rs's own pods.
func (c *Controller) relatedPods(rs *appsv1.ReplicaSet, own []*corev1.Pod) []*corev1.Pod {
	owner := metav1.GetControllerOfNoCopy(rs)
	if owner == nil {
		return own
	}
	siblings := map[types.UID]bool{}
	list, _ := c.kind.List(rs.Namespace)
	for _, s := range list {
		if ref := metav1.GetControllerOfNoCopy(s); ref != nil && ref.UID == owner.UID {
			siblings[s.UID] = true
		}
	}
	all, _ := c.pods.Pods(rs.Namespace).List(labels.Everything())
	var out []*corev1.Pod
	for _, p := range all {
		if ref := metav1.GetControllerOfNoCopy(p); ref != nil && siblings[ref.UID] {
			out = append(out, p)
		}
	}
	return out
}

func podKeys(pods []*corev1.Pod) []string {
	keys := make([]string, len(pods))
	for i, p := range pods {
		keys[i] = p.Namespace + "/" + p.Name
	}
	return keys
}
