package openapi

import (
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	openapiv2 "github.com/google/gnostic-models/openapiv2"
	openapiv3 "github.com/google/gnostic-models/openapiv3"
	"google.golang.org/protobuf/proto"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/svcplane/svcplane/internal/apiserver/openapi/generated"
	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// document is one encoded OpenAPI document. Its protobuf form is made on
// the first request for it.
type document struct {
	json    []byte
	hash    string // upper-case hex SHA-512 of json, as kube-openapi's
	toProto func([]byte) ([]byte, error)

	protoOnce sync.Once
	proto     []byte
	protoErr  error
}

func newDocument(data []byte, toProto func([]byte) ([]byte, error)) *document {
	return &document{json: data, hash: fmt.Sprintf("%X", sha512.Sum512(data)), toProto: toProto}
}

func (d *document) protobuf() ([]byte, error) {
	d.protoOnce.Do(func() { d.proto, d.protoErr = d.toProto(d.json) })
	return d.proto, d.protoErr
}

func v2Proto(data []byte) ([]byte, error) {
	doc, err := openapiv2.ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("parse openapi v2 document: %w", err)
	}
	return proto.Marshal(doc)
}

func v3Proto(data []byte) ([]byte, error) {
	doc, err := openapiv3.ParseDocument(data)
	if err != nil {
		return nil, fmt.Errorf("parse openapi v3 document: %w", err)
	}
	return proto.Marshal(doc)
}

// v3Documents are the /openapi/v3 discovery document and the documents it
// lists, by path (api/v1, apis/apps/v1, apis/apps, version, ...).
type v3Documents struct {
	root *document
	docs map[string]*document
}

// rootDocument is /openapi/v3, as kube-openapi's handler3 encodes it.
type rootDocument struct {
	Paths map[string]rootPath `json:"paths"`
}

type rootPath struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

// containers returns the routes of every document by its v3 path. A
// resource whose types have no generated definition (a group missing from
// hack/update-openapi.sh) is left out and named in skipped.
func (o *OpenAPI) containers(defs map[string]common.OpenAPIDefinition) (map[string]*container, []string) {
	byGV := map[schema.GroupVersion]*container{}
	var groups, skipped []string
	for _, r := range o.cfg.Resources {
		if !hasDefinitions(defs, r) {
			skipped = append(skipped, r.GroupResource().String())
			continue
		}
		c := byGV[r.GroupVersion]
		if c == nil {
			c = &container{root: apiPrefix(r.GroupVersion), routes: []common.Route{groupVersionRoute(r.GroupVersion)}}
			byGV[r.GroupVersion] = c
			if !slices.Contains(groups, r.GroupVersion.Group) {
				groups = append(groups, r.GroupVersion.Group)
			}
		}
		c.routes = append(c.routes, newResourcePaths(r, o.cfg.Scheme).routes()...)
	}
	out := discoveryContainers(groups)
	for _, c := range byGV {
		out[c.root[1:]] = c // api/v1, apis/apps/v1
	}
	return out, skipped
}

// hasDefinitions says whether r's object and list types (if it has a list:
// unstored reviews do not) have generated definitions.
func hasDefinitions(defs map[string]common.OpenAPIDefinition, r *registry.Resource) bool {
	if r.New == nil {
		return false
	}
	if _, ok := defs[modelName(r.New())]; !ok {
		return false
	}
	if r.NewList == nil {
		return true
	}
	_, ok := defs[modelName(r.NewList())]
	return ok
}

func (o *OpenAPI) info() *spec.Info {
	return &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: o.cfg.Version}}
}

// buildV2 builds the /openapi/v2 document: every path in one Swagger 2.0
// document.
func (o *OpenAPI) buildV2() (*document, error) {
	containers, skipped := o.containers(generated.GetOpenAPIDefinitions(refNoop))
	o.logSkipped(skipped)
	keys := sortedKeys(containers)
	list := make([]common.RouteContainer, 0, len(keys))
	for _, k := range keys {
		list = append(list, containers[k])
	}
	swagger, err := builder.BuildOpenAPISpecFromRoutes(list, &common.Config{
		Info:                           o.info(),
		GetDefinitions:                 generated.GetOpenAPIDefinitions,
		GetDefinitionName:              o.namer.definitionName,
		GetOperationIDAndTagsFromRoute: operationIDAndTags,
		CommonResponses:                map[int]spec.Response{401: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}}},
	})
	if err != nil {
		return nil, fmt.Errorf("build openapi v2 document: %w", err)
	}
	data, err := json.Marshal(swagger)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v2 document: %w", err)
	}
	return newDocument(data, v2Proto), nil
}

// buildV3 builds every OpenAPI v3 document and the discovery document
// listing them with their hashes.
func (o *OpenAPI) buildV3() (*v3Documents, error) {
	// The v3 builder only adds to the definitions (kinds, which are the
	// same every time) and drops their embedded v2 schemas, so one set
	// serves every document.
	defs := generated.GetOpenAPIDefinitions(o.refV3)
	containers, skipped := o.containers(defs)
	o.logSkipped(skipped)
	out := &v3Documents{docs: map[string]*document{}}
	root := rootDocument{Paths: map[string]rootPath{}}
	for key, c := range containers {
		doc, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{c}, &common.OpenAPIV3Config{
			Info:                           o.info(),
			Definitions:                    defs,
			GetDefinitionName:              o.namer.definitionName,
			GetOperationIDAndTagsFromRoute: operationIDAndTags,
			CommonResponses:                map[int]*spec3.Response{401: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}}},
		})
		if err != nil {
			return nil, fmt.Errorf("build openapi v3 document %s: %w", key, err)
		}
		data, err := json.Marshal(doc)
		if err != nil {
			return nil, fmt.Errorf("encode openapi v3 document %s: %w", key, err)
		}
		d := newDocument(data, v3Proto)
		out.docs[key] = d
		root.Paths[key] = rootPath{ServerRelativeURL: "/openapi/v3/" + key + "?hash=" + d.hash}
	}
	data, err := json.Marshal(root)
	if err != nil {
		return nil, fmt.Errorf("encode openapi v3 discovery: %w", err)
	}
	out.root = newDocument(data, nil)
	return out, nil
}

// refV3 is the generated definitions' reference callback for v3
// documents, whose schemas live under #/components/schemas.
func (o *OpenAPI) refV3(name string) spec.Ref {
	defName, _ := o.namer.definitionName(name)
	return spec.MustCreateRef("#/components/schemas/" + common.EscapeJsonPointer(defName))
}

// refNoop is a reference callback for definitions only looked up by name.
func refNoop(string) spec.Ref { return spec.Ref{} }

func (o *OpenAPI) logSkipped(skipped []string) {
	if len(skipped) > 0 {
		o.cfg.Logger.Warn("resources left out of the OpenAPI documents: no generated definitions (add their group to hack/update-openapi.sh)",
			"resources", skipped)
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
