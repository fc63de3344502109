package proxy

// Categorized are the endpoints of one service port sorted by use, as
// kube-proxy's CategorizeEndpoints returns them.
type Categorized struct {
	// Cluster are the endpoints for traffic with Cluster policy: ready ones
	// (of the node's zone when topology applies), or serving-and-terminating
	// ones when none is ready. Nil when no traffic uses the Cluster policy.
	Cluster []Endpoint
	// Local are this node's endpoints for traffic with Local policy: ready
	// ones, or serving-and-terminating ones when none is ready.
	Local []Endpoint
	// AllReachable is the union of Cluster and Local: every endpoint some
	// traffic may reach.
	AllReachable []Endpoint
	// HasAny says some endpoint anywhere may serve, which tells "no local
	// endpoints" (DROP) from "no endpoints" (REJECT).
	HasAny bool
}

// Categorize sorts the endpoints of sp for the node.
func Categorize(eps []Endpoint, sp *ServicePort, node Node) Categorized {
	var c Categorized
	useTopology := false
	if sp.UsesClusterEndpoints() {
		useTopology = canUseTopology(eps, sp, node)
		c.Cluster = filter(eps, func(e Endpoint) bool {
			return e.Ready && (!useTopology || e.HasZoneHint(node.Zone()))
		})
		if len(c.Cluster) == 0 {
			c.Cluster = filter(eps, servingTerminating)
		}
		c.HasAny = len(c.Cluster) > 0
	}
	if !sp.UsesLocalEndpoints() {
		c.AllReachable = c.Cluster
		return c
	}
	hasLocalReady, hasLocalTerminating := false, false
	for _, e := range eps {
		switch {
		case e.Ready:
			c.HasAny = true
			hasLocalReady = hasLocalReady || e.Local
		case servingTerminating(e):
			c.HasAny = true
			hasLocalTerminating = hasLocalTerminating || e.Local
		}
	}
	usesTerminating := false
	switch {
	case hasLocalReady:
		c.Local = filter(eps, func(e Endpoint) bool { return e.Local && e.Ready })
	case hasLocalTerminating:
		usesTerminating = true
		c.Local = filter(eps, func(e Endpoint) bool { return e.Local && servingTerminating(e) })
	}
	switch {
	case !sp.UsesClusterEndpoints():
		c.AllReachable = c.Local
	case !useTopology && !usesTerminating:
		c.AllReachable = c.Cluster // a superset of Local
	default:
		c.AllReachable = union(c.Cluster, c.Local)
	}
	return c
}

func servingTerminating(e Endpoint) bool { return e.Serving && e.Terminating }

// canUseTopology says whether traffic to sp stays in the node's zone: the
// Service asks for it, the node has a zone, every ready endpoint has hints
// and at least one is hinted for the node's zone.
func canUseTopology(eps []Endpoint, sp *ServicePort, node Node) bool {
	h := sp.HintsAnnotation
	if sp.TrafficDistribution != "PreferClose" && h != "Auto" && h != "auto" {
		return false
	}
	zone := node.Zone()
	if zone == "" {
		return false
	}
	forZone := false
	for _, e := range eps {
		if !e.Ready {
			continue
		}
		if len(e.ZoneHints) == 0 {
			return false
		}
		forZone = forZone || e.HasZoneHint(zone)
	}
	return forZone
}

func filter(eps []Endpoint, keep func(Endpoint) bool) []Endpoint {
	var out []Endpoint
	for _, e := range eps {
		if keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// union merges two sorted lists, keeping the order by "ip:port".
func union(a, b []Endpoint) []Endpoint {
	seen := make(map[string]bool, len(a)+len(b))
	out := make([]Endpoint, 0, len(a)+len(b))
	for _, list := range [][]Endpoint{a, b} {
		for _, e := range list {
			if k := e.String(); !seen[k] {
				seen[k] = true
				out = append(out, e)
			}
		}
	}
	sortEndpoints(out)
	return out
}
