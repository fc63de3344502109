package apiserver

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// format is how a response is sent: its encoding on the wire and the
// shape of its objects.
type format struct {
	wire  wire
	shape shape
}

type wire int

const (
	wireJSON wire = iota
	wireProtobuf
	wireYAML
)

type shape int

const (
	// shapeObject sends the objects themselves.
	shapeObject shape = iota
	// shapeTable sends meta.k8s.io/v1 Tables (JSON only).
	shapeTable
	// shapePartial sends meta.k8s.io/v1 PartialObjectMetadata(List).
	shapePartial
)

// protobufType is the media type of protobuf bodies.
const protobufType = "application/vnd.kubernetes.protobuf"

var formatJSON = format{}

// negotiate reads the Accept header and picks the first media type served:
// JSON, YAML or protobuf objects, JSON Tables, or partial metadata.
func negotiate(r *http.Request) (format, error) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return formatJSON, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if f, ok := mediaFormat(mt, params); ok {
			return f, nil
		}
	}
	return formatJSON, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "",
		fmt.Sprintf("only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json;as=Table;v=v1;g=meta.k8s.io (asked for %q)", accept), 0, false)
}

func mediaFormat(mt string, params map[string]string) (format, bool) {
	var w wire
	switch mt {
	case "application/json", "*/*", "application/*":
		w = wireJSON
	case protobufType:
		w = wireProtobuf
	case "application/yaml":
		w = wireYAML
	default:
		return format{}, false
	}
	as, meta := params["as"], params["g"] == "meta.k8s.io"
	switch {
	case as == "":
		return format{wire: w}, true
	case as == "Table" && meta && w == wireJSON && (params["v"] == "v1" || params["v"] == "v1beta1"):
		return format{wire: w, shape: shapeTable}, true
	case (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") && meta && params["v"] == "v1" && w != wireYAML:
		return format{wire: w, shape: shapePartial}, true
	}
	return format{}, false
}

// writeJSON sends obj with the status code; obj carries its own TypeMeta.
func writeJSON(w http.ResponseWriter, code int, obj any) {
	data, err := json.Marshal(obj)
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// writeObject sends an API object as JSON, YAML or protobuf.
func (s *Server) writeObject(w http.ResponseWriter, f format, code int, obj runtime.Object) {
	var data []byte
	var err error
	var contentType string
	switch f.wire {
	case wireYAML:
		data, err = yaml.Marshal(obj)
		contentType = "application/yaml"
	case wireProtobuf:
		data, err = s.codec.EncodeProtobuf(obj)
		contentType = protobufType
	default:
		writeJSON(w, code, obj)
		return
	}
	if err != nil {
		writeError(w, apierrors.NewInternalError(err))
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// writeError sends err as a metav1.Status.
func writeError(w http.ResponseWriter, err error) {
	st := toStatus(err)
	writeJSON(w, int(st.Code), st)
}

func toStatus(err error) *metav1.Status {
	var st metav1.Status
	if se, ok := err.(apierrors.APIStatus); ok {
		st = se.Status()
	} else {
		st = apierrors.NewInternalError(err).Status()
	}
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	return &st
}

// addWarnings sends warning texts as Warning headers, as upstream does.
func addWarnings(w http.ResponseWriter, warnings []string) {
	for _, text := range warnings {
		w.Header().Add("Warning", fmt.Sprintf("299 - %q", text))
	}
}
