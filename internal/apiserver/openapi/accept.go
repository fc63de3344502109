package openapi

import (
	"errors"
	"slices"
	"strconv"
	"strings"
)

var errBuild = errors.New("the OpenAPI document could not be built; the server log says why")

// The protobuf media types of the documents, the one answered first; the
// second (with "@") is what kubectl asks for.
var (
	v2Protobuf = []string{"application/com.github.proto-openapi.spec.v2.v1.0+protobuf", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}
	v3Protobuf = []string{"application/com.github.proto-openapi.spec.v3.v1.0+protobuf", "application/com.github.proto-openapi.spec.v3@v1.0+protobuf"}
)

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ, subtype string
	q            float64
}

// negotiate picks the answer's content type for an Accept header:
// application/json or protobuf[0], by the client's preference (q, then
// order), as kube-openapi's handlers do. No header means JSON.
func negotiate(accept []string, protobuf []string) (string, bool) {
	header := strings.Join(accept, ",")
	if strings.TrimSpace(header) == "" {
		return "application/json", true
	}
	for _, mr := range parseAccept(header) {
		for _, offer := range append([]string{"application/json"}, protobuf...) {
			typ, subtype, _ := strings.Cut(offer, "/")
			if (mr.typ == typ || mr.typ == "*") && (mr.subtype == subtype || mr.subtype == "*") {
				if offer == "application/json" {
					return offer, true
				}
				return protobuf[0], true
			}
		}
	}
	return "", false
}

// parseAccept returns the media ranges of an Accept header with q > 0,
// most preferred first. It splits by hand: the protobuf types contain "@",
// which mime.ParseMediaType refuses.
func parseAccept(header string) []mediaRange {
	var out []mediaRange
	for _, part := range strings.Split(header, ",") {
		fields := strings.Split(part, ";")
		typ, subtype, ok := strings.Cut(strings.ToLower(strings.TrimSpace(fields[0])), "/")
		if !ok {
			continue
		}
		mr := mediaRange{typ: typ, subtype: subtype, q: 1}
		for _, p := range fields[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
			if strings.TrimSpace(k) == "q" {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					mr.q = q
				}
			}
		}
		if mr.q > 0 {
			out = append(out, mr)
		}
	}
	slices.SortStableFunc(out, func(a, b mediaRange) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	return out
}
