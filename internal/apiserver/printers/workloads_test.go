package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestWorkloadRows(t *testing.T) {
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	ds := &appsv1.DaemonSet{ObjectMeta: objMeta("proxy", time.Hour), Spec: appsv1.DaemonSetSpec{Selector: sel, Template: podTemplate("kube-proxy:1")},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2, UpdatedNumberScheduled: 3, NumberAvailable: 2}}
	ds.Spec.Template.Spec.NodeSelector = map[string]string{"kubernetes.io/os": "linux"}
	testRows(t, schema.GroupResource{Group: "apps", Resource: "daemonsets"}, []rowCase{
		{"daemonset", ds, "proxy | 3 | 3 | 2 | 3 | 2 | kubernetes.io/os=linux | 60m | web | kube-proxy:1 | app=web"},
	})
	testRows(t, schema.GroupResource{Group: "apps", Resource: "statefulsets"}, []rowCase{
		{"statefulset", &appsv1.StatefulSet{ObjectMeta: objMeta("web", time.Hour), Spec: appsv1.StatefulSetSpec{Replicas: ptr(int32(3)), Template: podTemplate("nginx")},
			Status: appsv1.StatefulSetStatus{ReadyReplicas: 2}}, "web | 2/3 | 60m | web | nginx"},
	})
	rev := &appsv1.ControllerRevision{ObjectMeta: objMeta("proxy-abc", time.Hour), Revision: 2}
	rev.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "proxy", Controller: ptr(true)}}
	testRows(t, schema.GroupResource{Group: "apps", Resource: "controllerrevisions"}, []rowCase{
		{"owned", rev, "proxy-abc | daemonset.apps/proxy | 2 | 60m"},
		{"orphan", &appsv1.ControllerRevision{ObjectMeta: objMeta("x", time.Hour), Revision: 1}, "x | <none> | 1 | 60m"},
	})
	start, done := ago(2*time.Minute), ago(time.Minute)
	complete := &batchv1.Job{ObjectMeta: objMeta("pi", time.Hour), Spec: batchv1.JobSpec{Completions: ptr(int32(5)), Selector: sel, Template: podTemplate("perl")},
		Status: batchv1.JobStatus{Succeeded: 5, StartTime: &start, CompletionTime: &done,
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}}}
	running := &batchv1.Job{ObjectMeta: objMeta("q", time.Hour), Spec: batchv1.JobSpec{Parallelism: ptr(int32(3)), Template: podTemplate("perl")}}
	testRows(t, schema.GroupResource{Group: "batch", Resource: "jobs"}, []rowCase{
		{"complete", complete, "pi | Complete | 5/5 | 60s | 60m | web | perl | app=web"},
		{"work queue", running, "q | Running | 0/1 of 3 |  | 60m | web | perl | <none>"},
	})
	cj := &batchv1.CronJob{ObjectMeta: objMeta("hello", time.Hour), Spec: batchv1.CronJobSpec{Schedule: "*/1 * * * *", Suspend: ptr(false)}}
	cj.Spec.JobTemplate.Spec.Template = podTemplate("busybox")
	testRows(t, schema.GroupResource{Group: "batch", Resource: "cronjobs"}, []rowCase{
		{"cronjob", cj, "hello | */1 * * * * | <none> | False | 0 | <none> | 60m | web | busybox | <none>"},
	})
}
