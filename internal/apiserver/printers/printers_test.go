package printers

import (
	"fmt"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// testNow is the time AGE is measured from in every test.
var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(testNow.Add(-d)) }

func objMeta(name string, created time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(created)}
}

func ptr[T any](v T) *T { return &v }

// rowCase is one object and its row, cells joined by " | ".
type rowCase struct {
	name string
	obj  runtime.Object
	want string
}

// testRows renders each case with the printer of gr and compares the row.
func testRows(t *testing.T, gr schema.GroupResource, cases []rowCase) {
	t.Helper()
	p, ok := For(gr)
	if !ok {
		t.Fatalf("For(%v): no printer", gr)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderRow(t, p, tc.obj); got != tc.want {
				t.Errorf("row:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func renderRow(t *testing.T, p Printer, obj runtime.Object) string {
	t.Helper()
	cells, err := p.Row(obj, testNow)
	if err != nil {
		t.Fatalf("Row: %v", err)
	}
	if len(cells) != len(p.Columns) {
		t.Fatalf("Row: %d cells for %d columns", len(cells), len(p.Columns))
	}
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = fmt.Sprint(c)
	}
	return strings.Join(s, " | ")
}

// renderColumns shows a printer's columns as Name:type[:format], wide-only
// columns marked with a leading +.
func renderColumns(p Printer) string {
	s := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		s[i] = c.Name + ":" + c.Type
		if c.Format != "" {
			s[i] += ":" + c.Format
		}
		if c.Priority != 0 {
			s[i] = fmt.Sprintf("+%s(%d)", s[i], c.Priority)
		}
	}
	return strings.Join(s, " | ")
}

// diffLines reports the lines that differ between want and got.
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n-%s\n+%s\n", i+1, wl, gl)
		}
	}
	return b.String()
}

var resources = []schema.GroupResource{
	{Resource: "services"},
	{Resource: "endpoints"},
	{Group: "discovery.k8s.io", Resource: "endpointslices"},
	{Resource: "pods"},
	{Resource: "nodes"},
	{Resource: "namespaces"},
	{Resource: "configmaps"},
	{Resource: "events"},
	{Resource: "secrets"},
	{Resource: "serviceaccounts"},
	{Resource: "replicationcontrollers"},
	{Group: "apps", Resource: "deployments"},
	{Group: "apps", Resource: "replicasets"},
	{Group: "coordination.k8s.io", Resource: "leases"},
}

const wantColumns = `services: Name:string:name | Type:string | Cluster-IP:string | External-IP:string | Port(s):string | Age:string | +Selector:string(1)
endpoints: Name:string:name | Endpoints:string | Age:string
endpointslices.discovery.k8s.io: Name:string:name | AddressType:string | Ports:string | Endpoints:string | Age:string
pods: Name:string:name | Ready:string | Status:string | Restarts:string | Age:string | +IP:string(1) | +Node:string(1) | +Nominated Node:string(1) | +Readiness Gates:string(1)
nodes: Name:string:name | Status:string | Roles:string | Age:string | Version:string | +Internal-IP:string(1) | +External-IP:string(1) | +OS-Image:string(1) | +Kernel-Version:string(1) | +Container-Runtime:string(1)
namespaces: Name:string:name | Status:string | Age:string
configmaps: Name:string:name | Data:string | Age:string
events: Last Seen:string | Type:string | Reason:string | Object:string | +Subobject:string(1) | +Source:string(1) | Message:string | +First Seen:string(1) | +Count:string(1) | +Name:string:name(1)
secrets: Name:string:name | Type:string | Data:string | Age:string
serviceaccounts: Name:string:name | Secrets:string | Age:string
replicationcontrollers: Name:string:name | Desired:integer | Current:integer | Ready:integer | Age:string | +Containers:string(1) | +Images:string(1) | +Selector:string(1)
deployments.apps: Name:string:name | Ready:string | Up-to-date:string | Available:string | Age:string | +Containers:string(1) | +Images:string(1) | +Selector:string(1)
replicasets.apps: Name:string:name | Desired:integer | Current:integer | Ready:integer | Age:string | +Containers:string(1) | +Images:string(1) | +Selector:string(1)
leases.coordination.k8s.io: Name:string:name | Holder:string | Age:string
default: Name:string:name | Created At:date`

func TestColumns(t *testing.T) {
	var lines []string
	for _, gr := range resources {
		p, ok := For(gr)
		if !ok {
			t.Fatalf("For(%v): no printer", gr)
		}
		lines = append(lines, gr.String()+": "+renderColumns(p))
	}
	lines = append(lines, "default: "+renderColumns(Default()))
	if d := diffLines(wantColumns, strings.Join(lines, "\n")); d != "" {
		t.Errorf("columns differ:\n%s", d)
	}
}

// TestDescriptions checks every column has a description (a wrong swagger
// key would give an empty one) and spot-checks the shared ones.
func TestDescriptions(t *testing.T) {
	for _, gr := range resources {
		p, _ := For(gr)
		for _, c := range p.Columns {
			if c.Description == "" {
				t.Errorf("%v column %q: empty description", gr, c.Name)
			}
		}
	}
	p, _ := For(schema.GroupResource{Resource: "services"})
	want := (metav1.ObjectMeta{}).SwaggerDoc()["name"]
	if got := p.Columns[0].Description; got != want {
		t.Errorf("Name description = %q, want ObjectMeta's name doc %q", got, want)
	}
	if got := p.Columns[5].Description; !strings.HasPrefix(got, "CreationTimestamp is a timestamp") {
		t.Errorf("Age description = %q", got)
	}
}

func TestForUnknown(t *testing.T) {
	for _, gr := range []schema.GroupResource{
		{Resource: "podtemplates"},
		{Group: "apps", Resource: "services"},
		{Resource: "deployments"},
	} {
		if _, ok := For(gr); ok {
			t.Errorf("For(%v): got a printer, want none", gr)
		}
	}
}

// TestCellTypes pins the Go type of every cell, which upstream does not
// always match to the column type (Count is "string" but an int64).
func TestCellTypes(t *testing.T) {
	samples := map[string]runtime.Object{
		"services":                        &corev1.Service{},
		"endpoints":                       &corev1.Endpoints{},
		"endpointslices.discovery.k8s.io": &discoveryv1.EndpointSlice{},
		"pods":                            &corev1.Pod{},
		"nodes":                           &corev1.Node{},
		"namespaces":                      &corev1.Namespace{},
		"configmaps":                      &corev1.ConfigMap{},
		"events":                          &corev1.Event{},
		"secrets":                         &corev1.Secret{},
		"serviceaccounts":                 &corev1.ServiceAccount{},
		"replicationcontrollers":          &corev1.ReplicationController{},
		"deployments.apps":                &appsv1.Deployment{},
		"replicasets.apps":                &appsv1.ReplicaSet{},
		"leases.coordination.k8s.io":      &coordinationv1.Lease{},
	}
	want := `services: string string string string string string string
endpoints: string string string
endpointslices.discovery.k8s.io: string string string string string
pods: string string string string string string string string string
nodes: string string string string string string string string string string
namespaces: string string string
configmaps: string int64 string
events: string string string string string string string string int64 string
secrets: string string int64 string
serviceaccounts: string int64 string
replicationcontrollers: string int64 int64 int64 string string string string
deployments.apps: string string int64 int64 string string string string
replicasets.apps: string int64 int64 int64 string string string string
leases.coordination.k8s.io: string string string`
	var lines []string
	for _, gr := range resources {
		p, _ := For(gr)
		cells, err := p.Row(samples[gr.String()], testNow)
		if err != nil {
			t.Fatalf("%v: %v", gr, err)
		}
		types := make([]string, len(cells))
		for i, c := range cells {
			types[i] = fmt.Sprintf("%T", c)
		}
		lines = append(lines, gr.String()+": "+strings.Join(types, " "))
	}
	if d := diffLines(want, strings.Join(lines, "\n")); d != "" {
		t.Errorf("cell types differ:\n%s", d)
	}
}

func TestRowWrongType(t *testing.T) {
	for _, gr := range resources {
		p, _ := For(gr)
		if _, err := p.Row(&corev1.PodTemplate{}, testNow); err == nil {
			t.Errorf("%v: Row(*PodTemplate) gave no error", gr)
		}
		if _, err := p.Row(nil, testNow); err == nil {
			t.Errorf("%v: Row(nil) gave no error", gr)
		}
	}
}

func TestDefault(t *testing.T) {
	created := metav1.NewTime(time.Date(2025, 2, 3, 4, 5, 6, 0, time.FixedZone("CET", 3600)))
	cases := []rowCase{
		{"created", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "s", CreationTimestamp: created}}, "s | 2025-02-03T03:05:06Z"},
		{"zero time", &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "z"}}, "z | 0001-01-01T00:00:00Z"},
	}
	for _, tc := range cases {
		if got := renderRow(t, Default(), tc.obj); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	if _, err := Default().Row(&metav1.Status{}, testNow); err == nil {
		t.Error("Default().Row(*Status): no error for an object without metadata")
	}
}

func TestAge(t *testing.T) {
	cases := []struct {
		t    metav1.Time
		want string
	}{
		{metav1.Time{}, "<unknown>"},
		{ago(30 * time.Second), "30s"},
		{ago(5 * time.Minute), "5m"},
		{ago(3*time.Hour + 20*time.Minute), "3h20m"},
		{ago(26 * time.Hour), "26h"},
		{ago(400 * 24 * time.Hour), "400d"},
		{metav1.NewTime(testNow.Add(time.Hour)), "<invalid>"},
	}
	for _, tc := range cases {
		if got := age(tc.t, testNow); got != tc.want {
			t.Errorf("age(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
