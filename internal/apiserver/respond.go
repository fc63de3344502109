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

// format is the shape a response is sent in.
type format int

const (
	formatJSON format = iota
	formatYAML
	formatTable
	formatProtobuf
)

// protobufType is the media type of protobuf bodies.
const protobufType = "application/vnd.kubernetes.protobuf"

// negotiate reads the Accept header. Tables are sent when asked for; JSON
// is the default; protobuf alone is not acceptable.
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
		switch {
		case params["as"] == "Table" && params["g"] == "meta.k8s.io" && (params["v"] == "v1" || params["v"] == "v1beta1"):
			return formatTable, nil
		case params["as"] != "":
			continue
		case mt == "application/json", mt == "*/*", mt == "application/*":
			return formatJSON, nil
		case mt == "application/yaml":
			return formatYAML, nil
		case mt == protobufType:
			return formatProtobuf, nil
		}
	}
	return formatJSON, apierrors.NewGenericServerResponse(http.StatusNotAcceptable, "", schema.GroupResource{}, "",
		fmt.Sprintf("only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io (asked for %q)", accept), 0, false)
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
	switch f {
	case formatYAML:
		data, err = yaml.Marshal(obj)
		contentType = "application/yaml"
	case formatProtobuf:
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
