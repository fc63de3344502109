package discovery

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// Verbs returns the verbs discovery lists for r's main resource, so that
// other documents (OpenAPI) describe the same operations.
func Verbs(r *registry.Resource) []string {
	return mainResource(r).Verbs
}

// Subresource returns the kind r/sub answers with and the verbs discovery
// lists for it.
func Subresource(r *registry.Resource, sub string) (schema.GroupVersionKind, []string) {
	return describeSubresource(r.GroupVersionKind(), sub)
}
