package builtin

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
	"github.com/svcplane/svcplane/internal/apiserver/registry/controllerrevision"
	"github.com/svcplane/svcplane/internal/apiserver/registry/cronjob"
	"github.com/svcplane/svcplane/internal/apiserver/registry/daemonset"
	"github.com/svcplane/svcplane/internal/apiserver/registry/job"
	"github.com/svcplane/svcplane/internal/apiserver/registry/statefulset"
)

// workloadResources are apps/v1 DaemonSets, StatefulSets and
// ControllerRevisions and batch/v1 Jobs and CronJobs.
func workloadResources() []*registry.Resource {
	apps, batch := appsv1.SchemeGroupVersion, batchv1.SchemeGroupVersion
	return []*registry.Resource{
		{GroupVersion: apps, Name: "daemonsets", Singular: "daemonset", Kind: "DaemonSet", ListKind: "DaemonSetList", Namespaced: true,
			ShortNames: []string{"ds"}, Categories: []string{"all"}, Subresources: []string{"status"},
			New: newOf[appsv1.DaemonSet], NewList: newOf[appsv1.DaemonSetList], Strategy: daemonset.Strategy()},
		{GroupVersion: apps, Name: "statefulsets", Singular: "statefulset", Kind: "StatefulSet", ListKind: "StatefulSetList", Namespaced: true,
			ShortNames: []string{"sts"}, Categories: []string{"all"}, Subresources: []string{"status", "scale"},
			ValidateName: apivalidation.NameIsDNSLabel,
			New:          newOf[appsv1.StatefulSet], NewList: newOf[appsv1.StatefulSetList], Strategy: statefulset.Strategy()},
		{GroupVersion: apps, Name: "controllerrevisions", Singular: "controllerrevision", Kind: "ControllerRevision",
			ListKind: "ControllerRevisionList", Namespaced: true,
			New: newOf[appsv1.ControllerRevision], NewList: newOf[appsv1.ControllerRevisionList], Strategy: controllerrevision.Strategy()},
		{GroupVersion: batch, Name: "jobs", Singular: "job", Kind: "Job", ListKind: "JobList", Namespaced: true,
			Categories: []string{"all"}, Subresources: []string{"status"},
			New: newOf[batchv1.Job], NewList: newOf[batchv1.JobList], Strategy: job.Strategy()},
		{GroupVersion: batch, Name: "cronjobs", Singular: "cronjob", Kind: "CronJob", ListKind: "CronJobList", Namespaced: true,
			ShortNames: []string{"cj"}, Categories: []string{"all"}, Subresources: []string{"status"},
			New: newOf[batchv1.CronJob], NewList: newOf[batchv1.CronJobList], Strategy: cronjob.Strategy()},
	}
}
