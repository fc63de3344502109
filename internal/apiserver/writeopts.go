package apiserver

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/codec"
)

// writeOptions are the query parameters every write takes.
type writeOptions struct {
	DryRun          bool
	FieldManager    string
	FieldValidation string // Strict, Warn or Ignore
	Force           bool
}

func parseWriteOptions(r *http.Request) (writeOptions, error) {
	q := r.URL.Query()
	opts := writeOptions{FieldManager: q.Get("fieldManager"), FieldValidation: q.Get("fieldValidation")}
	for _, d := range q["dryRun"] {
		if d != "All" {
			return opts, apierrors.NewBadRequest(fmt.Sprintf("Invalid dry run value: %v", q["dryRun"]))
		}
		opts.DryRun = true
	}
	switch opts.FieldValidation {
	case "":
		opts.FieldValidation = "Warn"
	case "Strict", "Warn", "Ignore":
	default:
		return opts, apierrors.NewBadRequest(fmt.Sprintf("fieldValidation must be one of Ignore, Warn or Strict, not %q", opts.FieldValidation))
	}
	if opts.FieldManager == "" {
		opts.FieldManager = managerFromUserAgent(r.UserAgent())
	}
	if len(opts.FieldManager) > 128 {
		return opts, apierrors.NewBadRequest("fieldManager: Too long: may not be more than 128 bytes")
	}
	opts.Force = q.Get("force") == "true"
	return opts, nil
}

// managerFromUserAgent names the field manager of a client that gave none:
// its user agent up to the first slash, as upstream does.
func managerFromUserAgent(ua string) string {
	if i := strings.Index(ua, "/"); i >= 0 {
		ua = ua[:i]
	}
	if len(ua) > 128 {
		ua = ua[:128]
	}
	if ua == "" {
		return "unknown"
	}
	return ua
}

// maxBodyBytes is the largest request body taken, as kube-apiserver's
// default (3 MiB).
const maxBodyBytes = 3 << 20

// readBody reads a request body of at most maxBodyBytes; larger bodies get
// 413 and nothing else happens.
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, tooLarge()
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading the request body: %v", err))
	}
	if len(data) > maxBodyBytes {
		return nil, tooLarge()
	}
	return data, nil
}

func tooLarge() error {
	return apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
}

// decodeBody reads the request body into a new object of the resource.
func (h *resource) decodeBody(r *http.Request, gvk schema.GroupVersionKind, into runtime.Object, opts writeOptions) ([]string, error) {
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(data) == 0 {
		return nil, apierrors.NewBadRequest("the request body is empty")
	}
	ct := r.Header.Get("Content-Type")
	bo := codec.BodyOptions{
		YAML:     strings.Contains(ct, "yaml"),
		Protobuf: strings.HasPrefix(ct, "application/vnd.kubernetes.protobuf"),
		Strict:   opts.FieldValidation == "Strict",
	}
	warnings, err := h.srv.codec.DecodeBody(data, gvk, into, bo)
	if opts.FieldValidation == "Ignore" {
		warnings = nil
	}
	return warnings, err
}

// serveWrite runs one write: it reads the response format and the write
// options, calls do, and sends its result (with warnings) or its error.
func (h *resource) serveWrite(w http.ResponseWriter, r *http.Request, do func(writeOptions) (runtime.Object, int, []string, error)) {
	f, err := negotiate(r)
	if err != nil {
		writeError(w, err)
		return
	}
	opts, err := parseWriteOptions(r)
	if err != nil {
		writeError(w, err)
		return
	}
	out, code, warnings, err := do(opts)
	if err != nil {
		writeError(w, err)
		return
	}
	addWarnings(w, warnings)
	h.srv.writeObject(w, f, code, out)
}

// decodeNew reads the request body into a new object of the resource.
func (h *resource) decodeNew(r *http.Request, opts writeOptions) (runtime.Object, []string, error) {
	obj := h.def.New()
	warnings, err := h.decodeBody(r, h.def.GroupVersionKind(), obj, opts)
	return obj, warnings, err
}
