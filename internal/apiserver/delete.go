package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/objstore"
	"github.com/svcplane/svcplane/internal/authz/node"
)

// deleteRequest is a delete's options and whether it is a dry run.
type deleteRequest struct {
	metav1.DeleteOptions
	dryRun bool
}

func (h *resource) parseDeleteRequest(r *http.Request) (deleteRequest, error) {
	var d deleteRequest
	body, err := readBody(r)
	if err != nil {
		return d, err
	}
	if len(body) > 0 {
		pb := strings.HasPrefix(r.Header.Get("Content-Type"), "application/vnd.kubernetes.protobuf")
		if err := h.srv.codec.DecodeOptions(body, pb, &d.DeleteOptions); err != nil {
			return d, apierrors.NewBadRequest(fmt.Sprintf("invalid DeleteOptions: %v", err))
		}
	}
	q := r.URL.Query()
	if s := q.Get("gracePeriodSeconds"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return d, apierrors.NewBadRequest(fmt.Sprintf("invalid gracePeriodSeconds %q", s))
		}
		d.GracePeriodSeconds = &n
	}
	if s := q.Get("propagationPolicy"); s != "" {
		p := metav1.DeletionPropagation(s)
		d.PropagationPolicy = &p
	}
	wo, err := parseWriteOptions(r)
	d.dryRun = wo.DryRun || len(d.DryRun) > 0
	return d, err
}

func (h *resource) serveDelete(w http.ResponseWriter, r *http.Request, info requestInfo) {
	d, err := h.parseDeleteRequest(r)
	if err != nil {
		writeError(w, err)
		return
	}
	if err := checkPropagation(d.PropagationPolicy); err != nil {
		writeError(w, err)
		return
	}
	h.defaultPropagation(&d)
	if info.Verb == "deletecollection" {
		h.deleteCollection(w, r, info, d)
		return
	}
	out, code, err := h.deleteObject(r.Context(), info.Namespace, info.Name, d)
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, code, out)
}

// defaultPropagation applies the deprecated orphanDependents field, then
// the resource's default when neither it nor a policy was given.
func (h *resource) defaultPropagation(d *deleteRequest) {
	if d.PropagationPolicy != nil {
		return
	}
	orphan := h.def.OrphanByDefault
	if d.OrphanDependents != nil {
		orphan = *d.OrphanDependents
	}
	if orphan {
		p := metav1.DeletePropagationOrphan
		d.PropagationPolicy = &p
	}
}

func checkPropagation(p *metav1.DeletionPropagation) error {
	if p == nil {
		return nil
	}
	switch *p {
	case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		return nil
	}
	return apierrors.NewBadRequest(fmt.Sprintf("propagationPolicy: Unsupported value: %q: supported values: \"Foreground\", \"Background\", \"Orphan\"", *p))
}

// deleteObject removes an object, or marks it deleted when finalizers or a
// grace period keep it for now.
func (h *resource) deleteObject(ctx context.Context, ns, name string, d deleteRequest) (runtime.Object, int, error) {
	for attempt := 0; ; attempt++ {
		cur, err := h.store.Get(ctx, ns, name)
		if err != nil {
			return nil, 0, err
		}
		if err := h.checkDelete(cur, d); err != nil {
			return nil, 0, err
		}
		if err := h.admitWrite(ctx, node.Delete, "", nil, cur); err != nil {
			return nil, 0, err
		}
		out, code, err := h.deleteOnce(ctx, cur, d)
		if apierrors.IsConflict(err) && attempt < maxRetries {
			continue
		}
		return out, code, err
	}
}

func (h *resource) deleteOnce(ctx context.Context, cur runtime.Object, d deleteRequest) (runtime.Object, int, error) {
	obj := cur.DeepCopyObject()
	if !h.markDeleted(obj, d) {
		if d.dryRun {
			return h.deletedStatus(cur), http.StatusOK, nil
		}
		return h.removeNow(ctx, cur)
	}
	if d.dryRun || apiequalObjects(obj, cur) {
		return obj, http.StatusAccepted, nil
	}
	out, err := h.store.Update(ctx, obj)
	if err != nil {
		return nil, 0, err
	}
	return out, http.StatusAccepted, nil
}

func (h *resource) removeNow(ctx context.Context, cur runtime.Object) (runtime.Object, int, error) {
	m := accessor(cur)
	rev, err := objstore.ParseResourceVersion(m.GetResourceVersion())
	if err != nil {
		return nil, 0, err
	}
	if _, err := h.store.Delete(ctx, m.GetNamespace(), m.GetName(), rev); err != nil {
		return nil, 0, err
	}
	h.afterDelete(ctx, cur)
	if h.def.Name == "pods" || h.def.Name == "namespaces" {
		return cur, http.StatusOK, nil
	}
	return h.deletedStatus(cur), http.StatusOK, nil
}

// finishDelete removes an object whose last finalizer an update took away.
func (h *resource) finishDelete(ctx context.Context, obj runtime.Object, opts writeOptions) (runtime.Object, error) {
	if opts.DryRun {
		return obj, nil
	}
	out, _, err := h.removeNow(ctx, obj)
	if err != nil {
		return nil, err
	}
	if _, isStatus := out.(*metav1.Status); isStatus {
		return obj, nil
	}
	return out, nil
}

func (h *resource) deletedStatus(obj runtime.Object) *metav1.Status {
	m := accessor(obj)
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Details:  &metav1.StatusDetails{Name: m.GetName(), Group: h.def.GroupVersion.Group, Kind: h.def.Name, UID: m.GetUID()},
	}
}

// checkDelete applies preconditions and protected names.
func (h *resource) checkDelete(cur runtime.Object, d deleteRequest) error {
	m := accessor(cur)
	if p := d.Preconditions; p != nil {
		if p.UID != nil && *p.UID != m.GetUID() {
			return apierrors.NewConflict(h.def.GroupResource(), m.GetName(),
				fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
		}
		if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
			return apierrors.NewConflict(h.def.GroupResource(), m.GetName(),
				fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
		}
	}
	if h.def.Name == "namespaces" && protectedNamespace(m.GetName()) {
		return apierrors.NewForbidden(h.def.GroupResource(), m.GetName(), fmt.Errorf("this namespace may not be deleted"))
	}
	return nil
}

func protectedNamespace(name string) bool {
	return name == metav1.NamespaceDefault || name == metav1.NamespaceSystem || name == metav1.NamespacePublic
}

// markDeleted sets deletionTimestamp and the finalizers the propagation
// policy asks for. It returns false when the object can go at once.
func (h *resource) markDeleted(obj runtime.Object, d deleteRequest) bool {
	m := accessor(obj)
	addPropagationFinalizer(m, d.PropagationPolicy)
	grace := gracePeriod(obj, d)
	nsPending := false
	if ns, ok := obj.(*corev1.Namespace); ok && len(ns.Spec.Finalizers) > 0 {
		ns.Status.Phase = corev1.NamespaceTerminating
		nsPending = true
	}
	if len(m.GetFinalizers()) == 0 && grace == 0 && !nsPending {
		return false
	}
	if m.GetDeletionTimestamp() == nil || grace < deref(m.GetDeletionGracePeriodSeconds()) {
		ts := metav1.NewTime(time.Now().Add(time.Duration(grace) * time.Second))
		m.SetDeletionTimestamp(&ts)
		m.SetDeletionGracePeriodSeconds(&grace)
	}
	return true
}

func addPropagationFinalizer(m metav1.Object, p *metav1.DeletionPropagation) {
	var f string
	switch {
	case p == nil:
		return
	case *p == metav1.DeletePropagationOrphan:
		f = metav1.FinalizerOrphanDependents
	case *p == metav1.DeletePropagationForeground:
		f = metav1.FinalizerDeleteDependents
	default:
		return
	}
	for _, have := range m.GetFinalizers() {
		if have == f {
			return
		}
	}
	m.SetFinalizers(append(m.GetFinalizers(), f))
}

// gracePeriod is a pod's graceful-termination period; other objects have
// none. Pods not on a node, or already finished, go at once.
func gracePeriod(obj runtime.Object, d deleteRequest) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return 0
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	if d.GracePeriodSeconds != nil {
		return max(*d.GracePeriodSeconds, 0)
	}
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return corev1.DefaultTerminationGracePeriodSeconds
}

func deref(p *int64) int64 {
	if p == nil {
		return 1<<63 - 1
	}
	return *p
}

func (h *resource) deleteCollection(w http.ResponseWriter, r *http.Request, info requestInfo, d deleteRequest) {
	opts, _, err := h.listOptions(r.URL.Query(), info.Namespace)
	if err != nil {
		writeError(w, err)
		return
	}
	opts.Limit, opts.Continue, opts.Revision = 0, "", 0
	res, err := h.store.List(r.Context(), opts)
	if err != nil {
		writeError(w, err)
		return
	}
	var deleted []runtime.Object
	for _, obj := range res.Items {
		m := accessor(obj)
		if _, _, err := h.deleteObject(r.Context(), m.GetNamespace(), m.GetName(), d); err != nil && !apierrors.IsNotFound(err) {
			writeError(w, err)
			return
		}
		deleted = append(deleted, obj)
	}
	list, err := h.listObject(deleted, strconv.FormatInt(res.Revision, 10), "")
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, list)
}
