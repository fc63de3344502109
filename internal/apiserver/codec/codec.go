// Package codec turns API objects into bytes and back: JSON for storage and
// responses, JSON or YAML for request bodies, strictly when asked.
package codec

import (
	"bytes"
	"encoding/binary"
	stdjson "encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	sigsjson "sigs.k8s.io/json"
)

// Codec encodes and decodes the served types.
type Codec struct {
	Scheme     *runtime.Scheme
	json       *json.Serializer
	yaml       *json.Serializer
	strict     *json.Serializer
	strictYAML *json.Serializer
	protobuf   *protobuf.Serializer
	raw        *protobuf.RawSerializer
}

// New returns a codec over a scheme of its own holding every built-in type
// (client-go's) and meta.k8s.io's Table and PartialObjectMetadata.
func New() *Codec {
	s := runtime.NewScheme()
	utilruntime.Must(scheme.AddToScheme(s))
	utilruntime.Must(metav1.AddMetaToScheme(s))
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	mf := json.DefaultMetaFactory
	return &Codec{
		Scheme:     s,
		json:       json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{}),
		yaml:       json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{Yaml: true}),
		strict:     json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{Strict: true}),
		strictYAML: json.NewSerializerWithOptions(mf, s, s, json.SerializerOptions{Yaml: true, Strict: true}),
		protobuf:   protobuf.NewSerializer(s, s),
		raw:        protobuf.NewRawSerializer(s, s),
	}
}

// Encode writes obj as JSON. obj must carry its apiVersion and kind.
func (c *Codec) Encode(obj runtime.Object) ([]byte, error) {
	return runtime.Encode(c.json, obj)
}

// EncodeYAML writes obj as YAML.
func (c *Codec) EncodeYAML(obj runtime.Object) ([]byte, error) {
	return runtime.Encode(c.yaml, obj)
}

// EncodeStorage writes obj as it is kept in etcd: protobuf with the
// k8s\x00 envelope, as kube-apiserver stores it.
func (c *Codec) EncodeStorage(obj runtime.Object) ([]byte, error) {
	return runtime.Encode(c.protobuf, obj)
}

// EncodeProtobuf writes obj as a protobuf response body.
func (c *Codec) EncodeProtobuf(obj runtime.Object) ([]byte, error) {
	return runtime.Encode(c.protobuf, obj)
}

// EncodeWatchFrame writes one protobuf watch event: a 4-byte big-endian
// length, then the WatchEvent without envelope, whose object is obj, an
// object already encoded with EncodeProtobuf.
func (c *Codec) EncodeWatchFrame(typ string, obj []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, 0, 0})
	ev := &metav1.WatchEvent{Type: typ, Object: runtime.RawExtension{Raw: obj}}
	if err := c.raw.Encode(ev, &buf); err != nil {
		return nil, err
	}
	out := buf.Bytes()
	binary.BigEndian.PutUint32(out, uint32(len(out)-4))
	return out, nil
}

// DecodeInto reads a stored value into obj: protobuf, or JSON (read
// leniently, as stored data is).
func (c *Codec) DecodeInto(data []byte, gvk schema.GroupVersionKind, obj runtime.Object) error {
	if bytes.HasPrefix(data, protobufPrefix) {
		_, _, err := c.protobuf.Decode(data, &gvk, obj)
		return err
	}
	return sigsjson.UnmarshalCaseSensitivePreserveInts(data, obj)
}

// protobufPrefix starts every protobuf-encoded object.
var protobufPrefix = []byte("k8s\x00")

// BodyOptions say how a request body is read.
type BodyOptions struct {
	// YAML bodies are accepted as well as JSON.
	YAML bool
	// Protobuf bodies (application/vnd.kubernetes.protobuf), which
	// client-go sends for built-in types.
	Protobuf bool
	// Strict turns unknown and duplicate fields into errors; otherwise
	// they come back as warnings.
	Strict bool
}

// DecodeBody reads a request body into into, whose kind is gvk. It returns
// warnings for unknown fields when not strict, and a 400 Status error for
// malformed data, a wrong kind, or (when strict) unknown fields.
func (c *Codec) DecodeBody(data []byte, gvk schema.GroupVersionKind, into runtime.Object, opts BodyOptions) ([]string, error) {
	var s runtime.Decoder = c.strict
	switch {
	case opts.Protobuf:
		s = c.protobuf
	case opts.YAML:
		s = c.strictYAML
	}
	obj, actual, err := s.Decode(data, &gvk, into)
	if err != nil && !runtime.IsStrictDecodingError(err) {
		return nil, badBody(gvk, err)
	}
	if actual != nil && *actual != gvk {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: the object provided is unrecognized (must be of type %s)",
			actual.Kind, actual.Version, gvk.Kind, gvk.Kind))
	}
	if obj != into {
		return nil, badBody(gvk, fmt.Errorf("decoded into an unexpected type %T", obj))
	}
	if err == nil {
		return nil, nil
	}
	if opts.Strict {
		return nil, badBody(gvk, err)
	}
	return strictWarnings(err), nil
}

func badBody(gvk schema.GroupVersionKind, err error) error {
	return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %v", gvk.Kind, gvk.Version, gvk.Kind, err))
}

func strictWarnings(err error) []string {
	se, ok := runtime.AsStrictDecodingError(err)
	if !ok {
		return []string{err.Error()}
	}
	var out []string
	for _, e := range se.Errors() {
		out = append(out, e.Error())
	}
	return out
}

// DecodeOptions reads an options body such as DeleteOptions, sent as JSON
// or, by client-go, as protobuf.
func (c *Codec) DecodeOptions(data []byte, protobufBody bool, into runtime.Object) error {
	if !protobufBody {
		return stdjson.Unmarshal(data, into)
	}
	gvk := schema.GroupVersionKind{Version: "v1", Kind: "DeleteOptions"}
	_, _, err := c.protobuf.Decode(data, &gvk, into)
	return err
}
