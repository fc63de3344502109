// Package printers is server-side printing: it renders API objects as the
// columns and rows of a meta.k8s.io/v1 Table, the answer kube-apiserver gives
// to `kubectl get`.
//
// Column names, types, formats, priorities and descriptions, and the rules
// that turn an object into cells, follow upstream's
// pkg/printers/internalversion/printers.go (Kubernetes 1.32 and later). Like
// kube-apiserver, rows always carry the wide cells (upstream generates tables
// with Wide: true); kubectl hides the Priority 1 columns unless -o wide.
//
// The inputs are the versioned k8s.io/api types. Where upstream prints the
// internal type, the small differences of the v1 -> internal conversion are
// applied here (a nil replica count prints as 0, status.podIP wins over
// status.podIPs).
package printers

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
)

// Printer renders objects of one resource as Table rows.
type Printer struct {
	// Columns is the full (wide) set; wide-only columns have Priority 1.
	Columns []metav1.TableColumnDefinition
	// Row returns the cells of one object, one cell per column, as upstream
	// types them (string, int64, bool...). now is the time AGE is measured from.
	Row func(obj runtime.Object, now time.Time) ([]interface{}, error)
}

// For returns the printer of a resource (group + plural resource name), false
// if none.
func For(gr schema.GroupResource) (Printer, bool) {
	switch gr.String() {
	case "services":
		return servicePrinter(), true
	case "endpoints":
		return endpointsPrinter(), true
	case "endpointslices.discovery.k8s.io":
		return endpointSlicePrinter(), true
	case "pods":
		return podPrinter(), true
	case "nodes":
		return nodePrinter(), true
	case "namespaces":
		return namespacePrinter(), true
	case "configmaps":
		return configMapPrinter(), true
	case "replicationcontrollers":
		return replicationControllerPrinter(), true
	case "secrets":
		return secretPrinter(), true
	case "resourcequotas":
		return resourceQuotaPrinter(), true
	case "serviceaccounts":
		return serviceAccountPrinter(), true
	case "events":
		return eventPrinter(), true
	case "events.events.k8s.io":
		return eventsV1Printer(), true
	case "deployments.apps":
		return deploymentPrinter(), true
	case "replicasets.apps":
		return replicaSetPrinter(), true
	case "daemonsets.apps":
		return daemonSetPrinter(), true
	case "statefulsets.apps":
		return statefulSetPrinter(), true
	case "controllerrevisions.apps":
		return controllerRevisionPrinter(), true
	case "jobs.batch":
		return jobPrinter(), true
	case "cronjobs.batch":
		return cronJobPrinter(), true
	case "leases.coordination.k8s.io":
		return leasePrinter(), true
	case "rolebindings.rbac.authorization.k8s.io":
		return roleBindingPrinter(), true
	case "clusterrolebindings.rbac.authorization.k8s.io":
		return clusterRoleBindingPrinter(), true
	case "certificatesigningrequests.certificates.k8s.io":
		return csrPrinter(), true
	case "persistentvolumes":
		return persistentVolumePrinter(), true
	case "persistentvolumeclaims":
		return persistentVolumeClaimPrinter(), true
	case "storageclasses.storage.k8s.io":
		return storageClassPrinter(), true
	case "ingresses.networking.k8s.io":
		return ingressPrinter(), true
	case "ingressclasses.networking.k8s.io":
		return ingressClassPrinter(), true
	}
	return Printer{}, false
}

// Default returns the printer kube-apiserver uses for resources without their
// own (its DefaultTableConvertor): the name and the creation time as an
// RFC 3339 date in UTC.
func Default() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			{Name: "Created At", Type: "date", Description: objectMetaDoc("creationTimestamp")},
		},
		Row: defaultRow,
	}
}

func defaultRow(obj runtime.Object, _ time.Time) ([]interface{}, error) {
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("print %T: %w", obj, err)
	}
	created := m.GetCreationTimestamp().Time.UTC().Format(time.RFC3339)
	return []interface{}{m.GetName(), created}, nil
}

// typed adapts a row function of one concrete type to Printer.Row, which
// rejects objects of any other type.
func typed[T any](row func(*T, time.Time) []interface{}) func(runtime.Object, time.Time) ([]interface{}, error) {
	return func(obj runtime.Object, now time.Time) ([]interface{}, error) {
		o, ok := any(obj).(*T)
		if !ok || o == nil {
			return nil, fmt.Errorf("print: got %T, want %T", obj, o)
		}
		return row(o, now), nil
	}
}

func objectMetaDoc(field string) string {
	return metav1.ObjectMeta{}.SwaggerDoc()[field]
}

func column(name, typ, description string) metav1.TableColumnDefinition {
	return metav1.TableColumnDefinition{Name: name, Type: typ, Description: description}
}

// wideColumn is a column kubectl shows only with -o wide.
func wideColumn(name, typ, description string) metav1.TableColumnDefinition {
	c := column(name, typ, description)
	c.Priority = 1
	return c
}

func nameColumn() metav1.TableColumnDefinition {
	c := column("Name", "string", objectMetaDoc("name"))
	c.Format = "name"
	return c
}

func ageColumn() metav1.TableColumnDefinition {
	return column("Age", "string", objectMetaDoc("creationTimestamp"))
}

// containerColumns are the wide Containers and Images columns of workloads.
func containerColumns() []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		wideColumn("Containers", "string", "Names of each container in the template."),
		wideColumn("Images", "string", "Images referenced by each container in the template."),
	}
}

// age is how long before now t was, in kubectl's short form ("5m", "2y3d"),
// or <unknown> for a zero time.
func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func microAge(t metav1.MicroTime, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// maxListed is how many values a list cell shows before " + N more...".
const maxListed = 3

// shortList collects values for a list cell: the first maxListed are shown,
// the rest only counted.
type shortList struct {
	shown []string
	total int
}

func (l *shortList) add(s string) {
	l.total++
	if len(l.shown) < maxListed {
		l.shown = append(l.shown, s)
	}
}

func (l *shortList) String() string {
	s := strings.Join(l.shown, ",")
	if l.total > maxListed {
		return fmt.Sprintf("%s + %d more...", s, l.total-maxListed)
	}
	return s
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
