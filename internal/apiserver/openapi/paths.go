package openapi

import (
	"net/http"
	"reflect"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/common"

	"github.com/svcplane/svcplane/internal/apiserver/discovery"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Media types of the operations, as kube-apiserver lists them for what
// svcplane serves (JSON, YAML and protobuf).
func objectMedia() []string {
	return []string{"application/json", "application/yaml", "application/vnd.kubernetes.protobuf"}
}

func watchMedia() []string {
	return append(objectMedia(), "application/json;stream=watch", "application/vnd.kubernetes.protobuf;stream=watch")
}

func patchMedia() []string {
	return []string{"application/json-patch+json", "application/merge-patch+json",
		"application/strategic-merge-patch+json", "application/apply-patch+yaml"}
}

// resourcePaths builds the operations of one resource, named and shaped as
// kube-apiserver's (operation IDs such as patchAppsV1NamespacedDeployment,
// the x-kubernetes-action and -group-version-kind extensions, the query
// parameters of the options types), for the verbs discovery lists.
type resourcePaths struct {
	r          *registry.Resource
	scheme     *runtime.Scheme
	prefix     string // /api/v1, /apis/apps/v1
	collection string // prefix[/namespaces/{namespace}]/<resource>
	scope      string // "Namespaced" or ""
	scopeParam []common.Parameter
	gvName     string // CoreV1, AppsV1
	tag        string // core_v1, apps_v1
}

func newResourcePaths(r *registry.Resource, scheme *runtime.Scheme) *resourcePaths {
	p := &resourcePaths{r: r, scheme: scheme, prefix: apiPrefix(r.GroupVersion),
		gvName: groupPrefix(r.GroupVersion.Group) + capitalize(r.GroupVersion.Version), tag: tag(r.GroupVersion)}
	p.collection = p.prefix
	if r.Namespaced {
		p.collection += "/namespaces/{namespace}"
		p.scope = "Namespaced"
		p.scopeParam = []common.Parameter{namespaceParam()}
	}
	p.collection += "/" + r.Name
	return p
}

// routes returns every operation of the resource and its subresources.
func (p *resourcePaths) routes() []common.Route {
	var out []common.Route
	for _, verb := range discovery.Verbs(p.r) {
		out = append(out, p.verbRoutes(verb)...)
	}
	for _, sub := range p.r.Subresources {
		out = append(out, p.subresourceRoutes(sub)...)
	}
	return out
}

// newRoute returns an operation with its ID, tag and extensions set.
func (p *resourcePaths) newRoute(method, path, verb, rest, action string, gvk schema.GroupVersionKind) *route {
	return &route{method: method, path: path, id: verb + p.gvName + rest, tag: p.tag,
		extensions: map[string]any{"x-kubernetes-action": action, extensionGVK: gvkExtension(gvk)}}
}

func (p *resourcePaths) itemParams() []common.Parameter {
	return append([]common.Parameter{nameParam(p.r.Kind)}, p.scopeParam...)
}

// verbRoutes returns the operations of one verb on the main resource.
func (p *resourcePaths) verbRoutes(verb string) []common.Route {
	kind, gvk, item := p.r.Kind, p.r.GroupVersionKind(), p.collection+"/{name}"
	switch verb {
	case "list":
		return p.listRoutes()
	case "watch":
		return p.watchRoutes()
	case "create":
		rt := p.newRoute(http.MethodPost, p.collection, "create", p.scope+kind, "post", gvk)
		p.write(rt, "create a "+kind, p.scopeParam, metav1.CreateOptions{}, p.r.New(), objectResponses(p.r.New(), 201, 202))
		return []common.Route{rt}
	case "get":
		rt := p.newRoute(http.MethodGet, item, "read", p.scope+kind, "get", gvk)
		p.read(rt, "read the specified "+kind, p.itemParams(), p.r.New())
		return []common.Route{rt}
	case "update":
		rt := p.newRoute(http.MethodPut, item, "replace", p.scope+kind, "put", gvk)
		p.write(rt, "replace the specified "+kind, p.itemParams(), metav1.UpdateOptions{}, p.r.New(), objectResponses(p.r.New(), 201))
		return []common.Route{rt}
	case "patch":
		return []common.Route{p.patchRoute(item, "", gvk, p.r.New())}
	case "delete":
		rt := p.newRoute(http.MethodDelete, item, "delete", p.scope+kind, "delete", gvk)
		p.write(rt, "delete a "+kind, p.itemParams(), metav1.DeleteOptions{}, &metav1.DeleteOptions{}, objectResponses(&metav1.Status{}, 202))
		return []common.Route{rt}
	case "deletecollection":
		rt := p.newRoute(http.MethodDelete, p.collection, "delete", "Collection"+p.scope+kind, "deletecollection", gvk)
		p.write(rt, "delete collection of "+kind, p.scopeParam, metav1.DeleteOptions{}, &metav1.DeleteOptions{}, objectResponses(&metav1.Status{}))
		rt.params = mergeParams(rt.params, optionParams(metav1.ListOptions{}, "watch", "allowWatchBookmarks", "sendInitialEvents")...)
		return []common.Route{rt}
	}
	return nil
}

// read fills in a GET operation answering with model.
func (p *resourcePaths) read(rt *route, description string, params []common.Parameter, model any) {
	rt.description = description
	rt.params = append(append([]common.Parameter{}, params...), prettyParam())
	rt.produces = objectMedia()
	rt.responses = objectResponses(model)
}

// write fills in a POST, PUT or DELETE operation taking a body of the
// body's type and the query parameters of options.
func (p *resourcePaths) write(rt *route, description string, params []common.Parameter, options, body any, responses []common.StatusCodeResponse) {
	rt.description = description
	rt.params = append(append(append([]common.Parameter{}, params...), prettyParam(), bodyParam()), optionParams(options, "preconditions")...)
	rt.body = body
	rt.consumes = []string{"*/*"}
	rt.produces = objectMedia()
	rt.responses = responses
}

func (p *resourcePaths) patchRoute(path, sub string, gvk schema.GroupVersionKind, model any) *route {
	rt := p.newRoute(http.MethodPatch, path, "patch", p.scope+p.r.Kind+capitalize(sub), "patch", gvk)
	p.write(rt, describe("partially update", sub, p.r.Kind), p.itemParams(), metav1.PatchOptions{}, &metav1.Patch{}, objectResponses(model, 201))
	rt.consumes = patchMedia()
	return rt
}

func (p *resourcePaths) listRoutes() []common.Route {
	if p.r.NewList == nil {
		return nil
	}
	kind, gvk := p.r.Kind, p.r.GroupVersionKind()
	newList := func(path, rest string, params []common.Parameter) *route {
		rt := p.newRoute(http.MethodGet, path, "list", rest, "list", gvk)
		rt.description = "list or watch objects of kind " + kind
		rt.params = append(append(append([]common.Parameter{}, params...), prettyParam()), optionParams(metav1.ListOptions{})...)
		rt.produces = watchMedia()
		rt.responses = objectResponses(p.r.NewList())
		return rt
	}
	out := []common.Route{newList(p.collection, p.scope+kind, p.scopeParam)}
	if p.r.Namespaced {
		out = append(out, newList(p.prefix+"/"+p.r.Name, kind+"ForAllNamespaces", nil))
	}
	return out
}

// watchRoutes are the deprecated /watch/ paths kube-apiserver still serves
// and documents.
func (p *resourcePaths) watchRoutes() []common.Route {
	kind, gvk := p.r.Kind, p.r.GroupVersionKind()
	watchPath := strings.Replace(p.collection, p.prefix, p.prefix+"/watch", 1)
	newWatch := func(path, rest, action, description string, params []common.Parameter) *route {
		rt := p.newRoute(http.MethodGet, path, "watch", rest, action, gvk)
		rt.description = description
		rt.params = append(append(append([]common.Parameter{}, params...), prettyParam()), optionParams(metav1.ListOptions{})...)
		rt.produces = watchMedia()
		rt.responses = objectResponses(&metav1.WatchEvent{})
		return rt
	}
	out := []common.Route{
		newWatch(watchPath+"/{name}", p.scope+kind, "watch", "watch changes to an object of kind "+kind+
			". deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.", p.itemParams()),
		newWatch(watchPath, p.scope+kind+"List", "watchlist", "watch individual changes to a list of "+kind+
			". deprecated: use the 'watch' parameter with a list operation instead.", p.scopeParam),
	}
	if p.r.Namespaced {
		out = append(out, newWatch(p.prefix+"/watch/"+p.r.Name, kind+"ListForAllNamespaces", "watchlist",
			"watch individual changes to a list of "+kind+". deprecated: use the 'watch' parameter with a list operation instead.", nil))
	}
	return out
}

// subresourceRoutes returns the operations of r/sub for the verbs
// discovery lists; a subresource whose kind the scheme lacks has none.
func (p *resourcePaths) subresourceRoutes(sub string) []common.Route {
	gvk, verbs := discovery.Subresource(p.r, sub)
	path := p.collection + "/{name}/" + sub
	switch sub {
	case "log":
		return []common.Route{p.logRoute(path, gvk)}
	case "exec", "attach", "portforward", "proxy":
		return p.connectRoutes(path, sub, gvk, verbs)
	}
	model, err := p.scheme.New(gvk)
	if err != nil {
		return nil
	}
	rest := p.scope + p.r.Kind + capitalize(sub)
	var out []common.Route
	for _, verb := range verbs {
		switch verb {
		case "create":
			rt := p.newRoute(http.MethodPost, path, "create", rest, "post", gvk)
			p.write(rt, "create "+sub+" of a "+p.r.Kind, p.itemParams(), metav1.CreateOptions{}, model, objectResponses(model, 201, 202))
			out = append(out, rt)
		case "get":
			rt := p.newRoute(http.MethodGet, path, "read", rest, "get", gvk)
			p.read(rt, describe("read", sub, p.r.Kind), p.itemParams(), model)
			out = append(out, rt)
		case "update":
			rt := p.newRoute(http.MethodPut, path, "replace", rest, "put", gvk)
			p.write(rt, describe("replace", sub, p.r.Kind), p.itemParams(), metav1.UpdateOptions{}, model, objectResponses(model, 201))
			out = append(out, rt)
		case "patch":
			out = append(out, p.patchRoute(path, sub, gvk, model))
		}
	}
	return out
}

// logRoute is GET pods/log: plain text, PodLogOptions as query parameters.
func (p *resourcePaths) logRoute(path string, gvk schema.GroupVersionKind) *route {
	rt := p.newRoute(http.MethodGet, path, "read", p.scope+p.r.Kind+"Log", "get", gvk)
	rt.description = "read log of the specified " + p.r.Kind
	rt.params = append(append(p.itemParams(), prettyParam()), p.options(gvk.GroupVersion().WithKind(p.r.Kind+"LogOptions"))...)
	rt.produces = append([]string{"text/plain"}, objectMedia()...)
	rt.responses = []common.StatusCodeResponse{response{code: http.StatusOK, message: "OK", model: ""}}
	return rt
}

// connectRoutes are the streaming and proxy subresources: one operation per
// HTTP method, and for proxy the same again below .../proxy/{path}.
func (p *resourcePaths) connectRoutes(path, sub string, gvk schema.GroupVersionKind, verbs []string) []common.Route {
	options := p.options(gvk)
	var out []common.Route
	for _, verb := range verbs {
		method := verbMethod(verb)
		name := capitalize(strings.ToLower(method))
		newConnect := func(path, suffix string, params []common.Parameter) *route {
			rt := p.newRoute(method, path, "connect", name+p.scope+p.r.Kind+capitalize(sub)+suffix, "connect", gvk)
			rt.description = "connect " + method + " requests to " + sub + " of " + p.r.Kind
			rt.params = params
			rt.consumes, rt.produces = []string{"*/*"}, []string{"*/*"}
			rt.responses = []common.StatusCodeResponse{response{code: http.StatusOK, message: "OK", model: ""}}
			return rt
		}
		out = append(out, newConnect(path, "", append(p.itemParams(), options...)))
		if sub == "proxy" {
			params := append(p.itemParams(), pathParam())
			for _, o := range options {
				if o.Name() != "path" {
					params = append(params, o)
				}
			}
			out = append(out, newConnect(path+"/{path}", "WithPath", params))
		}
	}
	return out
}

// options returns the query parameters of the scheme's options kind gvk
// (PodExecOptions, ServiceProxyOptions, ...), none if it is unknown.
func (p *resourcePaths) options(gvk schema.GroupVersionKind) []common.Parameter {
	obj, err := p.scheme.New(gvk)
	if err != nil {
		return nil
	}
	return optionParams(reflect.ValueOf(obj).Elem().Interface())
}

// objectResponses answers 200 OK with model, and with the other codes
// given (201 Created, 202 Accepted).
func objectResponses(model any, codes ...int) []common.StatusCodeResponse {
	out := []common.StatusCodeResponse{response{code: http.StatusOK, message: "OK", model: model}}
	for _, code := range codes {
		out = append(out, response{code: code, message: http.StatusText(code), model: model})
	}
	return out
}

func verbMethod(verb string) string {
	switch verb {
	case "create":
		return http.MethodPost
	case "update":
		return http.MethodPut
	case "patch":
		return http.MethodPatch
	case "delete":
		return http.MethodDelete
	}
	return http.MethodGet
}

// describe is upstream's description of a verb on an object or one of its
// subresources: "read the specified Service", "read status of the
// specified Service".
func describe(what, sub, kind string) string {
	if sub == "" {
		return what + " the specified " + kind
	}
	return what + " " + sub + " of the specified " + kind
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
	return groupTag(gv.Group) + "_" + gv.Version
}

// groupTag is a group's tag: core, apps, rbacAuthorization.
func groupTag(group string) string {
	p := groupPrefix(group)
	return strings.ToLower(p[:1]) + p[1:]
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
