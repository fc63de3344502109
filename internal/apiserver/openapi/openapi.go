// Package openapi serves a minimal OpenAPI v3 description of the served
// resources: the /openapi/v3 discovery document and one document per group
// version that lists, for every kind, its create, replace and patch
// operations with the x-kubernetes-group-version-kind extension and the
// fieldValidation query parameter.
//
// That is what kubectl's default --validate=strict looks for to decide that
// the server validates fields itself; kubectl then sends
// fieldValidation=Strict instead of validating against schemas. The stub
// carries no schemas, so it is not enough for kubectl explain, and its PATCH
// operations leave out strategic merge patch so that kubectl computes such
// patches from its compiled-in types. OpenAPI v2 is not served (404).
package openapi

import (
	"bytes"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// OpenAPI serves the documents of a fixed set of resources. It is safe for
// concurrent use.
type OpenAPI struct {
	root gvDoc            // the /openapi/v3 discovery document
	docs map[string]gvDoc // by path below /openapi/v3/, e.g. apis/apps/v1
	mux  *http.ServeMux
}

// gvDoc is one group version's encoded document and its hash.
type gvDoc struct {
	data []byte
	hash string
}

// discoveryDoc is the /openapi/v3 document, as kube-openapi's handler3
// encodes it.
type discoveryDoc struct {
	Paths map[string]discoveryPath `json:"paths"`
}

type discoveryPath struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

// New returns the OpenAPI documents of resources.
func New(resources []*registry.Resource) *OpenAPI {
	byGV := map[schema.GroupVersion][]*registry.Resource{}
	for _, r := range resources {
		byGV[r.GroupVersion] = append(byGV[r.GroupVersion], r)
	}
	o := &OpenAPI{docs: map[string]gvDoc{}, mux: http.NewServeMux()}
	root := discoveryDoc{Paths: map[string]discoveryPath{}}
	for gv, rs := range byGV {
		data, err := json.Marshal(buildDocument(gv, rs))
		if err != nil {
			// Only plain structs, strings and maps: cannot happen.
			panic(fmt.Sprintf("encode openapi document %s: %v", gv, err))
		}
		key := strings.TrimPrefix(apiPrefix(gv), "/")
		d := newDoc(data)
		o.docs[key] = d
		root.Paths[key] = discoveryPath{ServerRelativeURL: "/openapi/v3/" + key + "?hash=" + d.hash}
	}
	data, _ := json.Marshal(root)
	o.root = newDoc(data)
	o.Register(o.mux)
	o.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeStatus(w, notFound()) })
	return o
}

// Register adds the OpenAPI routes to mux:
//
//	GET /openapi/v3            discovery: group version paths and their URLs
//	GET /openapi/v3/{gv...}    one group version's document (JSON only)
//	GET /openapi/v2            404 NotFound, whatever the Accept header
func (o *OpenAPI) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /openapi/v3", o.serveRoot)
	mux.HandleFunc("GET /openapi/v3/{gv...}", o.serveGroupVersion)
	mux.HandleFunc("GET /openapi/v2", func(w http.ResponseWriter, r *http.Request) { writeStatus(w, notFound()) })
}

// ServeHTTP serves the routes Register lists and answers 404 NotFound to
// anything else.
func (o *OpenAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mux.ServeHTTP(w, r)
}

func (o *OpenAPI) serveRoot(w http.ResponseWriter, r *http.Request) {
	serveJSON(w, r, o.root.data, o.root.hash)
}

// newDoc hashes data as kube-openapi does: upper-case hex of its SHA-512.
func newDoc(data []byte) gvDoc {
	return gvDoc{data: data, hash: fmt.Sprintf("%X", sha512.Sum512(data))}
}

// serveGroupVersion serves a document. A request naming an outdated hash is
// redirected to the current one; one naming the current hash may be cached
// for good, since a changed document gets a new hash.
func (o *OpenAPI) serveGroupVersion(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("gv")
	d, ok := o.docs[key]
	if !ok {
		writeStatus(w, notFound())
		return
	}
	if !acceptsJSON(r.Header) {
		writeStatus(w, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "get",
			schema.GroupResource{}, "", "only application/json is served", 0, false))
		return
	}
	switch hash := r.URL.Query().Get("hash"); hash {
	case "":
	case d.hash:
		w.Header().Set("Cache-Control", "public, immutable")
		w.Header().Set("Expires", time.Now().AddDate(1, 0, 0).UTC().Format(http.TimeFormat))
	default:
		http.Redirect(w, r, "/openapi/v3/"+key+"?hash="+d.hash, http.StatusMovedPermanently)
		return
	}
	serveJSON(w, r, d.data, d.hash)
}

// serveJSON writes data with an ETag, answering 304 to a matching
// If-None-Match.
func serveJSON(w http.ResponseWriter, r *http.Request, data []byte, etag string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("ETag", `"`+etag+`"`)
	w.Header().Add("Vary", "Accept")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

// acceptsJSON says whether the Accept header allows a JSON answer.
func acceptsJSON(h http.Header) bool {
	accept := strings.Join(h.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		return true
	}
	for _, mediaRange := range strings.Split(accept, ",") {
		base, params, err := mime.ParseMediaType(strings.TrimSpace(mediaRange))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
			continue
		}
		switch base {
		case "application/json", "application/*", "*/*":
			return true
		}
	}
	return false
}

func notFound() *apierrors.StatusError {
	return apierrors.NewGenericServerResponse(http.StatusNotFound, "get", schema.GroupResource{}, "", "", 0, false)
}

// writeStatus answers with err as a metav1.Status.
func writeStatus(w http.ResponseWriter, err *apierrors.StatusError) {
	status := err.Status()
	status.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	data, _ := json.Marshal(&status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(int(status.Code))
	w.Write(data)
}
