package openapi

import "k8s.io/kube-openapi/pkg/common"

// The kube-openapi builders take routes through the interfaces of
// k8s.io/kube-openapi/pkg/common; these are plain values that implement
// them, built from the served resources (paths.go).

// container is one document's routes: a group version, or one of the
// discovery paths (/api/, /apis/, /apis/<group>/, /version/).
type container struct {
	root   string
	routes []common.Route
}

func (c *container) RootPath() string                   { return c.root }
func (c *container) PathParameters() []common.Parameter { return nil }
func (c *container) Routes() []common.Route             { return c.routes }

// route is one operation.
type route struct {
	method, path string
	id           string // operation ID, e.g. listCoreV1NamespacedService
	tag          string // e.g. core_v1
	description  string
	params       []common.Parameter
	consumes     []string
	produces     []string
	extensions   map[string]any // x-kubernetes-action and -group-version-kind
	body         any            // a sample of the request body's type, or nil
	responses    []common.StatusCodeResponse
}

func (r *route) Method() string                                   { return r.method }
func (r *route) Path() string                                     { return r.path }
func (r *route) OperationName() string                            { return r.id }
func (r *route) Parameters() []common.Parameter                   { return r.params }
func (r *route) Description() string                              { return r.description }
func (r *route) Consumes() []string                               { return r.consumes }
func (r *route) Produces() []string                               { return r.produces }
func (r *route) Metadata() map[string]any                         { return r.extensions }
func (r *route) RequestPayloadSample() any                        { return r.body }
func (r *route) ResponsePayloadSample() any                       { return nil }
func (r *route) StatusCodeResponses() []common.StatusCodeResponse { return r.responses }

// operationIDAndTags is the builders' GetOperationIDAndTagsFromRoute.
func operationIDAndTags(r common.Route) (string, []string, error) {
	if rt, ok := r.(*route); ok && rt.tag != "" {
		return rt.id, []string{rt.tag}, nil
	}
	return r.OperationName(), nil, nil
}

// param is a path, query or body parameter. dataType is a simple OpenAPI
// type (string, integer, boolean) for the first two.
type param struct {
	name, description, dataType string
	kind                        common.ParameterKind
	required                    bool
}

func (p param) Name() string               { return p.name }
func (p param) Description() string        { return p.description }
func (p param) Required() bool             { return p.required }
func (p param) Kind() common.ParameterKind { return p.kind }
func (p param) DataType() string           { return p.dataType }
func (p param) AllowMultiple() bool        { return false }

// response is one status code's answer; model is a sample of its body's
// type ("" for a plain string).
type response struct {
	code    int
	message string
	model   any
}

func (r response) Code() int       { return r.code }
func (r response) Message() string { return r.message }
func (r response) Model() any      { return r.model }
