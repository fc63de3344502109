package openapi

import (
	"reflect"
	"slices"
	"strings"

	"k8s.io/kube-openapi/pkg/common"
)

// optionParams returns the query parameters of an options type (ListOptions,
// PodLogOptions, ...) as kube-apiserver derives them: one per JSON field of
// a simple type, described by the type's SwaggerDoc. Embedded and struct
// fields (TypeMeta, preconditions) are left out, as are the names in skip.
func optionParams(options any, skip ...string) []common.Parameter {
	t := reflect.TypeOf(options)
	docs := map[string]string{}
	if d, ok := options.(interface{ SwaggerDoc() map[string]string }); ok {
		docs = d.SwaggerDoc()
	}
	var params []common.Parameter
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		dataType := simpleType(f.Type)
		if f.Anonymous || name == "" || name == "-" || dataType == "" || slices.Contains(skip, name) {
			continue
		}
		params = append(params, param{name: name, description: docs[name], dataType: dataType, kind: common.QueryParameterKind})
	}
	return params
}

// simpleType is the OpenAPI type of a query parameter's Go type, "" for
// types that are not passed as query parameters.
func simpleType(t reflect.Type) string {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "integer"
	case reflect.String:
		return "string"
	}
	return ""
}

// mergeParams appends the parameters of b not named in a.
func mergeParams(a []common.Parameter, b ...common.Parameter) []common.Parameter {
	out := append([]common.Parameter(nil), a...)
	for _, p := range b {
		if !containsParam(out, p.Name()) {
			out = append(out, p)
		}
	}
	return out
}

func containsParam(ps []common.Parameter, name string) bool {
	return slices.ContainsFunc(ps, func(p common.Parameter) bool { return p.Name() == name })
}

func prettyParam() common.Parameter {
	return param{name: "pretty", description: "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget).",
		dataType: "string", kind: common.QueryParameterKind}
}

func nameParam(kind string) common.Parameter {
	return param{name: "name", description: "name of the " + kind, dataType: "string", kind: common.PathParameterKind, required: true}
}

func namespaceParam() common.Parameter {
	return param{name: "namespace", description: "object name and auth scope, such as for teams and projects",
		dataType: "string", kind: common.PathParameterKind, required: true}
}

func pathParam() common.Parameter {
	return param{name: "path", description: "path to the resource", dataType: "string", kind: common.PathParameterKind, required: true}
}

func bodyParam() common.Parameter {
	return param{name: "body", kind: common.BodyParameterKind, required: true}
}
