package apiserver

import (
	"net/http"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/apiserver/printers"
)

// printer returns the resource's table printer.
func (h *resource) printer() printers.Printer {
	if p, ok := printers.For(h.def.GroupResource()); ok {
		return p
	}
	return printers.Default()
}

// table renders objects as a meta.k8s.io/v1 Table; includeObject says what
// each row carries: "Metadata" (default), "Object" or "None".
func (h *resource) table(objs []runtime.Object, includeObject string, withColumns bool) (*metav1.Table, error) {
	p := h.printer()
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{Kind: "Table", APIVersion: "meta.k8s.io/v1"}, Rows: []metav1.TableRow{}}
	if withColumns {
		t.ColumnDefinitions = p.Columns
	}
	now := time.Now()
	for _, obj := range objs {
		cells, err := p.Row(obj, now)
		if err != nil {
			return nil, apierrors.NewInternalError(err)
		}
		row := metav1.TableRow{Cells: cells}
		row.Object = rowObject(obj, includeObject)
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func rowObject(obj runtime.Object, include string) runtime.RawExtension {
	switch include {
	case "None":
		return runtime.RawExtension{}
	case "Object":
		return runtime.RawExtension{Object: obj}
	}
	return runtime.RawExtension{Object: partialOf(obj)}
}

// partialOf returns an object's metadata as a PartialObjectMetadata.
func partialOf(obj runtime.Object) *metav1.PartialObjectMetadata {
	pom := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadata", APIVersion: "meta.k8s.io/v1"},
	}
	if a, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if om, ok := a.GetObjectMeta().(*metav1.ObjectMeta); ok {
			pom.ObjectMeta = *om
		}
	}
	return pom
}

func partialList(objs []runtime.Object, rv, cont string) *metav1.PartialObjectMetadataList {
	l := &metav1.PartialObjectMetadataList{
		TypeMeta: metav1.TypeMeta{Kind: "PartialObjectMetadataList", APIVersion: "meta.k8s.io/v1"},
		ListMeta: metav1.ListMeta{ResourceVersion: rv, Continue: cont},
		Items:    make([]metav1.PartialObjectMetadata, 0, len(objs)),
	}
	for _, o := range objs {
		l.Items = append(l.Items, *partialOf(o))
	}
	return l
}

func (h *resource) writeTable(w http.ResponseWriter, r *http.Request, objs []runtime.Object, rv, cont string) {
	t, err := h.table(objs, r.URL.Query().Get("includeObject"), true)
	if err != nil {
		writeError(w, err)
		return
	}
	t.ResourceVersion = rv
	t.Continue = cont
	writeJSON(w, http.StatusOK, t)
}
