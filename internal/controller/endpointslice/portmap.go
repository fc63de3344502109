package endpointslice

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"github.com/svcplane/svcplane/internal/controller/endpoints/endpointutil"
)

// portGroup is the desired endpoints of one address type that share a
// port list; each slice holds one port list.
type portGroup struct {
	ports     []discoveryv1.EndpointPort
	endpoints *endpointutil.EndpointSet
}

// filler reconciles the slices of one port list, following upstream's
// algorithm: (1) keep each existing slice's still-desired endpoints,
// refreshed, marking slices whose endpoints or labels changed for update
// (or for deletion when emptied); (2) top up the slices being updated,
// fullest first; (3) put what is left into new full slices while a
// slice's worth remains, then the rest into the unchanged slice it fills
// closest to full when one can take it all, else (unlike upstream, which
// then makes a new slice) into the unchanged slices with the most room,
// and only then into a new slice. A change to one pod thus rewrites only
// the slice holding it, and slices stay packed however pods arrive (at
// most one slice is not full when pods only come).
type filler struct {
	svc       *corev1.Service
	t         discoveryv1.AddressType
	max       int
	update    []*discoveryv1.EndpointSlice
	unchanged []*discoveryv1.EndpointSlice
	plan      Plan
}

func (f *filler) run(existing []*discoveryv1.EndpointSlice, g *portGroup) Plan {
	for _, s := range existing {
		f.refresh(s, g.endpoints)
	}
	f.topUp(g.endpoints)
	f.placeLeftovers(g)
	f.plan.Update = append(f.plan.Update, f.update...)
	return f.plan
}

// refresh is step 1 for one existing slice.
func (f *filler) refresh(s *discoveryv1.EndpointSlice, desired *endpointutil.EndpointSet) {
	kept := make([]discoveryv1.Endpoint, 0, len(s.Endpoints))
	changed := false
	for i := range s.Endpoints {
		got := desired.Take(&s.Endpoints[i])
		if got == nil {
			continue
		}
		kept = append(kept, *got)
		changed = changed || !endpointutil.EndpointsEqualBeyondKey(got, &s.Endpoints[i])
	}
	labels, labelsChanged := sliceLabels(s, f.svc)
	switch {
	case len(kept) == 0 && len(s.Endpoints) > 0:
		f.plan.Delete = append(f.plan.Delete, s)
	case changed || len(kept) != len(s.Endpoints) || labelsChanged:
		c := s.DeepCopy()
		c.Endpoints, c.Labels = kept, labels
		f.update = append(f.update, c)
	default:
		f.unchanged = append(f.unchanged, s)
	}
}

// topUp is step 2: fill the slices being updated anyway, fullest first.
func (f *filler) topUp(desired *endpointutil.EndpointSet) {
	slices.SortStableFunc(f.update, func(a, b *discoveryv1.EndpointSlice) int {
		return cmp.Compare(len(b.Endpoints), len(a.Endpoints))
	})
	for _, s := range f.update {
		f.fill(s, desired)
	}
}

// placeLeftovers is step 3.
func (f *filler) placeLeftovers(g *portGroup) {
	for g.endpoints.Len() > 0 {
		var s *discoveryv1.EndpointSlice
		if g.endpoints.Len() < f.max {
			s = f.takeSliceWithRoom(g.endpoints.Len())
		}
		if s == nil {
			s = newSlice(f.svc, f.t, g.ports)
			f.plan.Create = append(f.plan.Create, s)
		} else {
			f.update = append(f.update, s)
		}
		f.fill(s, g.endpoints)
	}
}

func (f *filler) fill(s *discoveryv1.EndpointSlice, desired *endpointutil.EndpointSet) {
	for desired.Len() > 0 && len(s.Endpoints) < f.max {
		s.Endpoints = append(s.Endpoints, *desired.Pop())
	}
}

// takeSliceWithRoom removes from the unchanged slices, and returns a copy
// of, the one that n more endpoints bring closest to full without
// overflowing it, or else the one with the most room; nil when all are
// full.
func (f *filler) takeSliceWithRoom(n int) *discoveryv1.EndpointSlice {
	best, bestGap := -1, f.max
	for i, s := range f.unchanged {
		if gap := f.max - n - len(s.Endpoints); gap >= 0 && gap < bestGap {
			best, bestGap = i, gap
		}
	}
	if best < 0 {
		for i, s := range f.unchanged {
			if room := f.max - len(s.Endpoints); room > 0 && (best < 0 || room > f.max-len(f.unchanged[best].Endpoints)) {
				best = i
			}
		}
	}
	if best < 0 {
		return nil
	}
	s := f.unchanged[best].DeepCopy()
	f.unchanged = slices.Delete(f.unchanged, best, best+1)
	return s
}
