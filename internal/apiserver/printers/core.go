package printers

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// The small printers: namespaces, configmaps, secrets, service accounts
// and leases.

func namespacePrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Status", "string", "The status of the namespace"),
			ageColumn(),
		},
		Row: typed(func(ns *corev1.Namespace, now time.Time) []interface{} {
			return []interface{}{ns.Name, string(ns.Status.Phase), age(ns.CreationTimestamp, now)}
		}),
	}
}

func configMapPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Data", "string", corev1.ConfigMap{}.SwaggerDoc()["data"]),
			ageColumn(),
		},
		Row: typed(func(cm *corev1.ConfigMap, now time.Time) []interface{} {
			data := int64(len(cm.Data) + len(cm.BinaryData))
			return []interface{}{cm.Name, data, age(cm.CreationTimestamp, now)}
		}),
	}
}

func leasePrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Holder", "string", coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]),
			ageColumn(),
		},
		Row: typed(func(l *coordinationv1.Lease, now time.Time) []interface{} {
			holder := ""
			if l.Spec.HolderIdentity != nil {
				holder = *l.Spec.HolderIdentity
			}
			return []interface{}{l.Name, holder, age(l.CreationTimestamp, now)}
		}),
	}
}

func secretPrinter() Printer {
	doc := corev1.Secret{}.SwaggerDoc()
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Type", "string", doc["type"]),
			column("Data", "string", doc["data"]),
			ageColumn(),
		},
		Row: typed(func(s *corev1.Secret, now time.Time) []interface{} {
			return []interface{}{s.Name, string(s.Type), int64(len(s.Data)), age(s.CreationTimestamp, now)}
		}),
	}
}

func serviceAccountPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			column("Secrets", "string", corev1.ServiceAccount{}.SwaggerDoc()["secrets"]),
			ageColumn(),
		},
		Row: typed(func(sa *corev1.ServiceAccount, now time.Time) []interface{} {
			return []interface{}{sa.Name, int64(len(sa.Secrets)), age(sa.CreationTimestamp, now)}
		}),
	}
}

// resourceQuotaPrinter shows used/hard of each resource, the limits.*
// ones in Limit and the others in Request, as kube-apiserver does.
func resourceQuotaPrinter() Printer {
	return Printer{
		Columns: []metav1.TableColumnDefinition{
			nameColumn(),
			ageColumn(),
			column("Request", "string", "Request represents a minimum amount of cpu/memory that a container may consume."),
			column("Limit", "string", "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node."),
		},
		Row: typed(func(q *corev1.ResourceQuota, now time.Time) []interface{} {
			var request, limit []string
			for _, name := range slices.Sorted(maps.Keys(q.Status.Hard)) {
				used, hard := q.Status.Used[name], q.Status.Hard[name]
				cell := fmt.Sprintf("%s: %s/%s", name, used.String(), hard.String())
				if first, _, ok := strings.Cut(string(name), "."); ok && first == "limits" {
					limit = append(limit, cell)
				} else {
					request = append(request, cell)
				}
			}
			return []interface{}{q.Name, age(q.CreationTimestamp, now), strings.Join(request, ", "), strings.Join(limit, ", ")}
		}),
	}
}
