package discovery

import (
	"mime"
	"net/http"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/svcplane/svcplane/internal/apiserver/registry"
)

// AggregatedContentType is the media type of aggregated discovery v2.
const AggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// wantsAggregated says whether the Accept header accepts aggregated
// discovery v2 as JSON. The "nopeer" profile is accepted too: this server
// has no peers, so the whole document is the no-peer one.
func wantsAggregated(h http.Header) bool {
	for _, accept := range h.Values("Accept") {
		for _, mediaRange := range strings.Split(accept, ",") {
			if isAggregatedV2(mediaRange) {
				return true
			}
		}
	}
	return false
}

func isAggregatedV2(mediaRange string) bool {
	base, params, err := mime.ParseMediaType(strings.TrimSpace(mediaRange))
	if err != nil || base != "application/json" {
		return false
	}
	if q, ok := params["q"]; ok && strings.Trim(q, "0.") == "" {
		return false // q=0: explicitly not acceptable
	}
	if p, ok := params["profile"]; ok && p != "nopeer" {
		return false
	}
	return params["g"] == "apidiscovery.k8s.io" && params["v"] == "v2" && params["as"] == "APIGroupDiscoveryList"
}

func writeAggregated(w http.ResponseWriter, doc *apidiscoveryv2.APIGroupDiscoveryList) {
	writeEncoded(w, http.StatusOK, AggregatedContentType, doc)
}

// aggregatedList is the aggregated document of groups (nil ones skipped).
func aggregatedList(groups ...*group) *apidiscoveryv2.APIGroupDiscoveryList {
	doc := &apidiscoveryv2.APIGroupDiscoveryList{
		TypeMeta: metav1.TypeMeta{Kind: "APIGroupDiscoveryList", APIVersion: "apidiscovery.k8s.io/v2"},
		Items:    []apidiscoveryv2.APIGroupDiscovery{},
	}
	for _, g := range groups {
		if g != nil {
			doc.Items = append(doc.Items, aggregatedGroup(g))
		}
	}
	return doc
}

// aggregatedGroup describes g; its first version is the preferred one.
func aggregatedGroup(g *group) apidiscoveryv2.APIGroupDiscovery {
	out := apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: g.name}}
	for _, v := range g.versions {
		av := apidiscoveryv2.APIVersionDiscovery{
			Version:   v.gv.Version,
			Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent,
		}
		for _, r := range v.resources {
			av.Resources = append(av.Resources, aggregatedResource(r))
		}
		out.Versions = append(out.Versions, av)
	}
	return out
}

func aggregatedResource(r *registry.Resource) apidiscoveryv2.APIResourceDiscovery {
	gvk := r.GroupVersionKind()
	out := apidiscoveryv2.APIResourceDiscovery{
		Resource:         r.Name,
		ResponseKind:     &metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
		Scope:            apidiscoveryv2.ScopeCluster,
		SingularResource: r.Singular,
		Verbs:            r.ServedVerbs(),
		ShortNames:       r.ShortNames,
		Categories:       r.Categories,
	}
	if r.Namespaced {
		out.Scope = apidiscoveryv2.ScopeNamespace
	}
	for _, sub := range sortedSubresources(r) {
		sgvk, verbs := describeSubresource(gvk, sub)
		out.Subresources = append(out.Subresources, apidiscoveryv2.APISubresourceDiscovery{
			Subresource:  sub,
			ResponseKind: &metav1.GroupVersionKind{Group: sgvk.Group, Version: sgvk.Version, Kind: sgvk.Kind},
			Verbs:        verbs,
		})
	}
	return out
}
