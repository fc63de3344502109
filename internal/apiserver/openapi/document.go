package openapi

import (
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// The subset of OpenAPI 3.0 the stub documents use. Field names and
// extensions follow kube-openapi's spec3 encoding, which client-go parses.
type (
	document struct {
		OpenAPI    string               `json:"openapi"`
		Info       info                 `json:"info"`
		Paths      map[string]*pathItem `json:"paths"`
		Components components           `json:"components"`
	}
	info struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	}
	components struct {
		Schemas map[string]schemaObject `json:"schemas"`
	}
	pathItem struct {
		Post       *operation  `json:"post,omitempty"`
		Put        *operation  `json:"put,omitempty"`
		Patch      *operation  `json:"patch,omitempty"`
		Parameters []parameter `json:"parameters,omitempty"`
	}
	operation struct {
		Description string              `json:"description"`
		OperationID string              `json:"operationId"`
		Parameters  []parameter         `json:"parameters"`
		RequestBody requestBody         `json:"requestBody"`
		Responses   map[string]response `json:"responses"`
		Tags        []string            `json:"tags"`
		Action      string              `json:"x-kubernetes-action"`
		GVK         gvk                 `json:"x-kubernetes-group-version-kind"`
	}
	parameter struct {
		Name        string       `json:"name"`
		In          string       `json:"in"`
		Description string       `json:"description,omitempty"`
		Required    bool         `json:"required,omitempty"`
		Schema      schemaObject `json:"schema"`
	}
	requestBody struct {
		Content  map[string]mediaType `json:"content"`
		Required bool                 `json:"required"`
	}
	response struct {
		Description string               `json:"description"`
		Content     map[string]mediaType `json:"content,omitempty"`
	}
	mediaType struct {
		Schema schemaObject `json:"schema"`
	}
	schemaObject struct {
		Type        string `json:"type,omitempty"`
		UniqueItems bool   `json:"uniqueItems,omitempty"`
	}
	gvk struct {
		Group   string `json:"group"`
		Version string `json:"version"`
		Kind    string `json:"kind"`
	}
)

// patchTypes are the patch media types the PATCH operations accept.
// Strategic merge patch is left out on purpose: kubectl computes a
// strategic merge patch from OpenAPI only when it is listed, and then needs
// the full schemas this stub does not carry; without it kubectl uses its
// compiled-in types, which is what we want.
func patchTypes() []string {
	return []string{"application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"}
}

// buildDocument returns the stub document of one group version: for each
// resource, create on the collection and replace and patch on the object
// and its status and scale subresources, each tagged with its kind and
// accepting the fieldValidation query parameter.
func buildDocument(gv schema.GroupVersion, resources []*registry.Resource) *document {
	doc := &document{
		OpenAPI:    "3.0.0",
		Info:       info{Title: "Kubernetes", Version: "unversioned"},
		Paths:      map[string]*pathItem{},
		Components: components{Schemas: map[string]schemaObject{}},
	}
	for _, r := range resources {
		addResource(doc, gv, r)
	}
	return doc
}

func addResource(doc *document, gv schema.GroupVersion, r *registry.Resource) {
	collection := apiPrefix(gv)
	if r.Namespaced {
		collection += "/namespaces/{namespace}"
	}
	collection += "/" + r.Name
	ns := namespaceParams(r.Namespaced)
	doc.Paths[collection] = &pathItem{
		Post:       newOperation("create", r, "", r.GroupVersionKind()),
		Parameters: append(ns, prettyParam()),
	}
	item := &pathItem{
		Put:        newOperation("replace", r, "", r.GroupVersionKind()),
		Patch:      newOperation("patch", r, "", r.GroupVersionKind()),
		Parameters: append(append([]parameter{nameParam(r.Kind)}, ns...), prettyParam()),
	}
	doc.Paths[collection+"/{name}"] = item
	for _, sub := range r.Subresources {
		kind, ok := subresourceKind(r, sub)
		if !ok {
			continue
		}
		doc.Paths[collection+"/{name}/"+sub] = &pathItem{
			Put:        newOperation("replace", r, sub, kind),
			Patch:      newOperation("patch", r, sub, kind),
			Parameters: item.Parameters,
		}
	}
}

// subresourceKind is the kind a writable subresource takes; ok is false for
// subresources that are not replaced or patched.
func subresourceKind(r *registry.Resource, sub string) (schema.GroupVersionKind, bool) {
	switch sub {
	case "status":
		return r.GroupVersionKind(), true
	case "scale":
		return schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, true
	}
	return schema.GroupVersionKind{}, false
}

// newOperation describes one write: verb is create, replace or patch.
func newOperation(verb string, r *registry.Resource, sub string, kind schema.GroupVersionKind) *operation {
	op := &operation{
		Description: describe(verb, r.Kind, sub),
		OperationID: operationID(verb, r, sub),
		Parameters:  []parameter{queryParam("dryRun", "string"), queryParam("fieldManager", "string"), fieldValidationParam()},
		RequestBody: requestBody{Content: map[string]mediaType{"*/*": objectMedia()}, Required: true},
		Responses: map[string]response{
			"200": {Description: "OK", Content: jsonObject()},
			"201": {Description: "Created", Content: jsonObject()},
			"401": {Description: "Unauthorized"},
		},
		Tags:   []string{tag(r.GroupVersion)},
		Action: action(verb),
		GVK:    gvk{Group: kind.Group, Version: kind.Version, Kind: kind.Kind},
	}
	switch verb {
	case "create":
		op.Responses["202"] = response{Description: "Accepted", Content: jsonObject()}
	case "patch":
		op.Parameters = append(op.Parameters, queryParam("force", "boolean"))
		op.RequestBody.Content = map[string]mediaType{}
		for _, t := range patchTypes() {
			op.RequestBody.Content[t] = objectMedia()
		}
	}
	return op
}

// action is the x-kubernetes-action of a verb.
func action(verb string) string {
	switch verb {
	case "create":
		return "post"
	case "replace":
		return "put"
	}
	return verb
}

func describe(verb, kind, sub string) string {
	what := verb
	if verb == "patch" {
		what = "partially update"
	}
	switch {
	case verb == "create":
		return "create a " + kind
	case sub != "":
		return what + " " + sub + " of the specified " + kind
	default:
		return what + " the specified " + kind
	}
}

// operationID follows kube-apiserver's names, e.g.
// patchAppsV1NamespacedDeploymentScale.
func operationID(verb string, r *registry.Resource, sub string) string {
	id := verb + groupPrefix(r.GroupVersion.Group) + capitalize(r.GroupVersion.Version)
	if r.Namespaced {
		id += "Namespaced"
	}
	return id + r.Kind + capitalize(sub)
}

// groupPrefix turns a group into its camel-case name in operation IDs:
// "" is Core, discovery.k8s.io is Discovery, rbac.authorization.k8s.io is
// RbacAuthorization.
func groupPrefix(group string) string {
	if group == "" {
		return "Core"
	}
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimSuffix(group, ".k8s.io"), ".") {
		b.WriteString(capitalize(part))
	}
	return b.String()
}

// tag is the operation tag, e.g. core_v1, apps_v1, discovery_v1.
func tag(gv schema.GroupVersion) string {
	p := groupPrefix(gv.Group)
	return strings.ToLower(p[:1]) + p[1:] + "_" + gv.Version
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// apiPrefix is the path prefix of a group version: /api/v1, /apis/apps/v1.
func apiPrefix(gv schema.GroupVersion) string {
	if gv.Group == "" {
		return "/api/" + gv.Version
	}
	return "/apis/" + gv.Group + "/" + gv.Version
}

func fieldValidationParam() parameter {
	p := queryParam("fieldValidation", "string")
	p.Description = "fieldValidation instructs the server on how to handle objects in the request " +
		"(POST/PUT/PATCH) containing unknown or duplicate fields: Ignore, Warn or Strict."
	return p
}

func queryParam(name, typ string) parameter {
	return parameter{Name: name, In: "query", Schema: schemaObject{Type: typ, UniqueItems: true}}
}

func prettyParam() parameter { return queryParam("pretty", "string") }

func nameParam(kind string) parameter {
	return parameter{Name: "name", In: "path", Required: true, Description: "name of the " + kind,
		Schema: schemaObject{Type: "string", UniqueItems: true}}
}

func namespaceParams(namespaced bool) []parameter {
	if !namespaced {
		return nil
	}
	return []parameter{{Name: "namespace", In: "path", Required: true,
		Description: "object name and auth scope, such as for teams and projects",
		Schema:      schemaObject{Type: "string", UniqueItems: true}}}
}

func objectMedia() mediaType { return mediaType{Schema: schemaObject{Type: "object"}} }

func jsonObject() map[string]mediaType {
	return map[string]mediaType{"application/json": objectMedia()}
}
