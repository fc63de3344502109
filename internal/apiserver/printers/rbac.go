package printers

import (
	"strings"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	rbacv1beta1 "k8s.io/api/rbac/v1beta1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RoleBindings and ClusterRoleBindings print their role and, wide, their
// subjects by kind; Roles and ClusterRoles have no printer upstream (the
// default Name / Created At table).

func bindingColumns(kind, roleRefDoc string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn(),
		column("Role", "string", roleRefDoc),
		ageColumn(),
		wideColumn("Users", "string", "Users in the "+kind),
		wideColumn("Groups", "string", "Groups in the "+kind),
		wideColumn("ServiceAccounts", "string", "ServiceAccounts in the "+kind),
	}
}

func roleBindingPrinter() Printer {
	return Printer{
		Columns: bindingColumns("roleBinding", rbacv1beta1.RoleBinding{}.SwaggerDoc()["roleRef"]),
		Row: typed(func(b *rbacv1.RoleBinding, now time.Time) []interface{} {
			return bindingRow(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		}),
	}
}

func clusterRoleBindingPrinter() Printer {
	return Printer{
		Columns: bindingColumns("clusterRoleBinding", rbacv1beta1.ClusterRoleBinding{}.SwaggerDoc()["roleRef"]),
		Row: typed(func(b *rbacv1.ClusterRoleBinding, now time.Time) []interface{} {
			return bindingRow(b.ObjectMeta, b.RoleRef, b.Subjects, now)
		}),
	}
}

func bindingRow(m metav1.ObjectMeta, ref rbacv1.RoleRef, subjects []rbacv1.Subject, now time.Time) []interface{} {
	users, groups, sas := subjectStrings(subjects)
	return []interface{}{m.Name, ref.Kind + "/" + ref.Name, age(m.CreationTimestamp, now),
		strings.Join(users, ", "), strings.Join(groups, ", "), strings.Join(sas, ", ")}
}

// subjectStrings splits subjects by kind as upstream's SubjectsStrings:
// ServiceAccounts as namespace/name (name alone without a namespace).
func subjectStrings(subjects []rbacv1.Subject) (users, groups, sas []string) {
	for _, s := range subjects {
		switch s.Kind {
		case rbacv1.UserKind:
			users = append(users, s.Name)
		case rbacv1.GroupKind:
			groups = append(groups, s.Name)
		case rbacv1.ServiceAccountKind:
			if s.Namespace != "" {
				sas = append(sas, s.Namespace+"/"+s.Name)
			} else {
				sas = append(sas, s.Name)
			}
		}
	}
	return users, groups, sas
}
