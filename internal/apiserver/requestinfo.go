package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what a resource URL names.
type requestInfo struct {
	Group, Version string
	Namespace      string
	Resource       string
	Name           string
	Subresource    string
	Verb           string
	// ProxyPath is the path after <name>/proxy of a proxy request, with
	// its leading slash (and its trailing one, if any).
	ProxyPath string
}

// parseRequest reads a /api/v1/... or /apis/<group>/<version>/... path.
// ok is false for paths that name no resource (discovery, unknown roots).
func parseRequest(r *http.Request) (requestInfo, bool) {
	parts := splitPath(r.URL.Path)
	var info requestInfo
	switch {
	case len(parts) >= 3 && parts[0] == "api":
		info.Version, parts = parts[1], parts[2:]
	case len(parts) >= 4 && parts[0] == "apis":
		info.Group, info.Version, parts = parts[1], parts[2], parts[3:]
	default:
		return info, false
	}
	if parts[0] == "namespaces" && len(parts) > 1 {
		info.Namespace = parts[1]
		if len(parts) > 2 && parts[2] != "status" && parts[2] != "finalize" {
			parts = parts[2:]
		}
	}
	info.Resource = parts[0]
	if len(parts) > 1 {
		info.Name = parts[1]
	}
	if len(parts) > 2 {
		info.Subresource = parts[2]
	}
	if info.Subresource == "proxy" {
		info.ProxyPath = proxyPath(parts[3:], strings.HasSuffix(r.URL.Path, "/"))
	} else if len(parts) > 3 {
		return info, false
	}
	info.Verb = verbOf(r, info.Name)
	return info, true
}

// proxyPath joins the parts after "proxy" into an absolute path.
func proxyPath(parts []string, trailingSlash bool) string {
	p := "/" + strings.Join(parts, "/")
	if trailingSlash && len(parts) > 0 {
		p += "/"
	}
	return p
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

func verbOf(r *http.Request, name string) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if name != "" {
			return "get"
		}
		if w := r.URL.Query().Get("watch"); w == "true" || w == "1" {
			return "watch"
		}
		return "list"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if name == "" {
			return "deletecollection"
		}
		return "delete"
	}
	return strings.ToLower(r.Method)
}
