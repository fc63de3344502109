package allocator

import (
	"fmt"
	"net/netip"
	"slices"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// hasClusterIPs reports whether svc gets cluster IPs: not ExternalName, not
// headless.
func hasClusterIPs(svc *v1.Service) bool {
	if svc.Spec.Type == v1.ServiceTypeExternalName {
		return false
	}
	ips := clusterIPsOf(svc)
	return len(ips) == 0 || ips[0] != v1.ClusterIPNone
}

// clusterIPsOf returns a copy of spec.clusterIPs, or of spec.clusterIP when
// only that is set (a v1 object not yet normalized).
func clusterIPsOf(svc *v1.Service) []string {
	if len(svc.Spec.ClusterIPs) > 0 {
		return slices.Clone(svc.Spec.ClusterIPs)
	}
	if svc.Spec.ClusterIP != "" {
		return []string{svc.Spec.ClusterIP}
	}
	return nil
}

// familiesOf returns spec.ipFamilies; when empty, the families of the given
// cluster IPs, else the primary family.
func familiesOf(svc *v1.Service, primary v1.IPFamily) []v1.IPFamily {
	if len(svc.Spec.IPFamilies) > 0 {
		return slices.Clone(svc.Spec.IPFamilies)
	}
	var fams []v1.IPFamily
	for _, ip := range clusterIPsOf(svc) {
		if ip != "" {
			fams = append(fams, familyOf(ip))
		}
	}
	if len(fams) == 0 {
		fams = []v1.IPFamily{primary}
	}
	return fams
}

func familyOf(ip string) v1.IPFamily {
	if addr, err := netip.ParseAddr(ip); err == nil && addr.Unmap().Is4() {
		return v1.IPv4Protocol
	}
	return v1.IPv6Protocol
}

// createClusterIPs allocates a cluster IP for each IP family of svc, as
// upstream's allocClusterIPs.
func (t *Txn) createClusterIPs(svc *v1.Service) error {
	if !hasClusterIPs(svc) {
		return nil
	}
	families := familiesOf(svc, t.a.Primary)
	ips := clusterIPsOf(svc)
	for len(ips) < len(families) {
		ips = append(ips, "") // a marker: allocate one
	}
	got := slices.Clone(ips)
	for i, family := range families {
		ip, err := t.allocIP(svc.Name, ips, i, family)
		if err != nil {
			return err
		}
		got[i] = ip
	}
	setClusterIPs(svc, families, got)
	return nil
}

func setClusterIPs(svc *v1.Service, families []v1.IPFamily, ips []string) {
	svc.Spec.IPFamilies = families
	svc.Spec.ClusterIPs = ips
	svc.Spec.ClusterIP = ips[0]
}

// allocIP allocates the cluster IP of family for ips[i]: the requested one
// if ips[i] is set, else a free one. ips is spec.clusterIPs as requested,
// with "" for the IPs to allocate; errors show it so, as upstream's do.
func (t *Txn) allocIP(name string, ips []string, i int, family v1.IPFamily) (string, error) {
	op, ok := t.ipOp(family)
	if !ok {
		return "", InvalidService(name, FamilyFieldError(i, family))
	}
	if ips[i] == "" {
		addr, err := op.AllocateNext()
		if err != nil {
			return "", ClusterIPInternalError(err)
		}
		return addr.String(), nil
	}
	addr, err := netip.ParseAddr(ips[i])
	if err != nil {
		return "", apierrors.NewInternalError(fmt.Errorf("failed to parse service IP %q", ips[i]))
	}
	if err := op.Allocate(addr); err != nil {
		return "", InvalidService(name, ClusterIPFieldError(ips, ips[i], err))
	}
	return ips[i], nil
}

// updateClusterIPs handles the four changes upstream's updateClusterIPs
// knows: from ExternalName (allocate all), to ExternalName (release all),
// single- to dual-stack (allocate the secondary) and back (release it).
func (t *Txn) updateClusterIPs(svc, old *v1.Service) error {
	oldExt := old.Spec.Type == v1.ServiceTypeExternalName
	newExt := svc.Spec.Type == v1.ServiceTypeExternalName
	switch {
	case oldExt && !newExt:
		return t.createClusterIPs(svc)
	case !hasClusterIPs(old):
		return nil // headless stays headless (validation)
	case newExt:
		t.releaseClusterIPs(old)
	case len(old.Spec.IPFamilies) == 1 && len(svc.Spec.IPFamilies) == 2:
		return t.upgradeClusterIPs(svc)
	case len(old.Spec.IPFamilies) == 2 && len(svc.Spec.IPFamilies) == 1:
		t.releaseLater(old.Spec.ClusterIPs[1:])
	}
	return nil
}

// upgradeClusterIPs allocates the secondary cluster IP of a Service turning
// dual-stack.
func (t *Txn) upgradeClusterIPs(svc *v1.Service) error {
	ips := clusterIPsOf(svc)
	if len(ips) < 2 {
		ips = append(ips, "")
	}
	ip, err := t.allocIP(svc.Name, ips, 1, svc.Spec.IPFamilies[1])
	if err != nil {
		return err
	}
	ips[1] = ip
	setClusterIPs(svc, svc.Spec.IPFamilies, ips)
	return nil
}

// releaseClusterIPs schedules the release of every cluster IP of svc.
func (t *Txn) releaseClusterIPs(svc *v1.Service) {
	if hasClusterIPs(svc) {
		t.releaseLater(clusterIPsOf(svc))
	}
}

// releaseLater schedules the release of ips, each with the allocator of its
// family; IPs of a family no longer configured are skipped, as upstream.
func (t *Txn) releaseLater(ips []string) {
	for _, ip := range ips {
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			continue
		}
		if op, ok := t.ipOp(familyOf(ip)); ok {
			op.ReleaseLater(addr)
		}
	}
}
