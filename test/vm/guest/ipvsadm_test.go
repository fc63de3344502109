package guest

import (
	"regexp"
	"testing"
)

// TestIPVSAdm is the tutorials' first step on a real IPVS kernel: ipvsadm
// makes a virtual service with three masqueraded real servers and
// `ipvsadm -ln` lists it with the rr scheduler.
func TestIPVSAdm(t *testing.T) {
	const vip = "10.96.100.1:80"
	run(t, "ipvsadm", "-A", "-t", vip, "-s", "rr")
	t.Cleanup(func() { run(t, "ipvsadm", "-D", "-t", vip) })
	for _, rs := range []string{"10.244.0.11:9376", "10.244.0.12:9376", "10.244.0.13:9376"} {
		run(t, "ipvsadm", "-a", "-t", vip, "-r", rs, "-m")
	}
	out := run(t, "ipvsadm", "-ln")
	t.Logf("ipvsadm -ln:\n%s", out)
	want := regexp.MustCompile(`(?m)^TCP  10\.96\.100\.1:80 rr\s*\n` +
		`  -> 10\.244\.0\.11:9376\s+Masq\s+1\s+0\s+0\s*\n` +
		`  -> 10\.244\.0\.12:9376\s+Masq\s+1\s+0\s+0\s*\n` +
		`  -> 10\.244\.0\.13:9376\s+Masq\s+1\s+0\s+0\s*$`)
	if !want.MatchString(out) {
		t.Errorf("ipvsadm -ln does not list %s (rr) with its three real servers:\n%s", vip, out)
	}
}
