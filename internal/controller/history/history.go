// Package history keeps the ControllerRevisions of DaemonSets and
// StatefulSets: the snapshot of a workload's template each revision
// holds, the revision numbers rollout history shows, and which old
// revisions may go. The decisions are plain functions of values; Writer
// applies them through the API.
package history

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
)

// HashLabel is the label of the generic revisions (StatefulSets) that
// holds their hash.
const HashLabel = "controller.kubernetes.io/hash"

// TemplatePatch is a revision's data: {"spec":{"template":{...,
// "$patch":"replace"}}}, the strategic merge patch kubectl rollout undo
// applies to go back to it.
func TemplatePatch(tpl *corev1.PodTemplateSpec) ([]byte, error) {
	raw, err := json.Marshal(tpl)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	m["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": m}})
}

// Hash is upstream's HashControllerRevision: FNV-32 of the data and the
// collision count in decimal, safely encoded.
func Hash(data []byte, collisionCount *int32) string {
	h := fnv.New32()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// Name is "<prefix>-<hash>", the prefix cut to 223 characters.
func Name(prefix, hash string) string {
	if len(prefix) > 223 {
		prefix = prefix[:223]
	}
	return prefix + "-" + hash
}

// Owned returns the revisions controlled by uid, oldest revision first.
func Owned(all []*appsv1.ControllerRevision, uid string) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, r := range all {
		if ref := metav1.GetControllerOfNoCopy(r); ref != nil && string(ref.UID) == uid {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Revision != out[j].Revision {
			return out[i].Revision < out[j].Revision
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// MaxRevision is the highest revision number, 0 for none.
func MaxRevision(revs []*appsv1.ControllerRevision) int64 {
	var n int64
	for _, r := range revs {
		n = max(n, r.Revision)
	}
	return n
}

// FindEqual returns the revision holding data, nil if none does.
func FindEqual(revs []*appsv1.ControllerRevision, data []byte) *appsv1.ControllerRevision {
	for i := len(revs) - 1; i >= 0; i-- {
		if apiequality.Semantic.DeepEqual(revs[i].Data.Raw, data) || jsonEqual(revs[i].Data.Raw, data) {
			return revs[i]
		}
	}
	return nil
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return apiequality.Semantic.DeepEqual(x, y)
}

// ToDelete returns the old revisions beyond limit that are neither the
// current ones nor in use by a live pod, oldest first.
func ToDelete(revs []*appsv1.ControllerRevision, limit int32, keep map[string]bool) []*appsv1.ControllerRevision {
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !keep[r.Name] {
			old = append(old, r)
		}
	}
	n := len(old) - int(limit)
	if n <= 0 {
		return nil
	}
	return old[:n]
}

// Writer creates, renumbers and deletes revisions through the API.
type Writer struct {
	Client kubernetes.Interface
}

// Create stores the revision build(collisionCount) returns. A name taken
// by a revision with other data is a collision: the count goes up and
// build is called again. It returns the stored revision and the count.
func (w Writer) Create(ctx context.Context, build func(collisionCount *int32) *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, *int32, error) {
	count := collisionCount
	for attempt := 0; attempt < 10; attempt++ {
		rev := build(count)
		created, err := w.Client.AppsV1().ControllerRevisions(rev.Namespace).Create(ctx, rev, metav1.CreateOptions{})
		if err == nil {
			return created, count, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return nil, count, err
		}
		existing, gerr := w.Client.AppsV1().ControllerRevisions(rev.Namespace).Get(ctx, rev.Name, metav1.GetOptions{})
		if gerr != nil {
			return nil, count, gerr
		}
		if isOwnedBy(existing, rev) && jsonEqual(existing.Data.Raw, rev.Data.Raw) {
			return existing, count, nil
		}
		next := int32(0)
		if count != nil {
			next = *count + 1
		}
		count = &next
	}
	return nil, count, fmt.Errorf("controller revision: too many hash collisions")
}

func isOwnedBy(r, want *appsv1.ControllerRevision) bool {
	a, b := metav1.GetControllerOfNoCopy(r), metav1.GetControllerOfNoCopy(want)
	return a != nil && b != nil && a.UID == b.UID
}

// Renumber gives rev a new revision number.
func (w Writer) Renumber(ctx context.Context, rev *appsv1.ControllerRevision, revision int64) (*appsv1.ControllerRevision, error) {
	cp := rev.DeepCopy()
	cp.Revision = revision
	return w.Client.AppsV1().ControllerRevisions(rev.Namespace).Update(ctx, cp, metav1.UpdateOptions{})
}

// Delete removes revisions, ignoring those already gone.
func (w Writer) Delete(ctx context.Context, revs []*appsv1.ControllerRevision) error {
	for _, r := range revs {
		err := w.Client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// New is a revision of owner with data, labels and number, unnamed.
func New(owner metav1.Object, gvk schema.GroupVersionKind, data []byte, lbls map[string]string, revision int64) *appsv1.ControllerRevision {
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       owner.GetNamespace(),
			Labels:          labels.Merge(nil, lbls),
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(owner, gvk)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
}
