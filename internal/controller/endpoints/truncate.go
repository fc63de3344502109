package endpoints

import (
	corev1 "k8s.io/api/core/v1"
)

// MaxAddresses is the most addresses (ready and not ready) one Endpoints
// object holds.
const MaxAddresses = 1000

// truncate trims subsets to MaxAddresses and reports whether it had to.
// Ready addresses win: while they fit, only not-ready ones are trimmed;
// when they alone exceed the cap, all not-ready ones go and the ready ones
// are trimmed. Each subset keeps a share proportional to its size
// (rounded up, the last ones taking what is left). Subsets left empty are
// dropped.
func truncate(subsets []corev1.EndpointSubset) ([]corev1.EndpointSubset, bool) {
	ready, notReady := count(subsets)
	if ready+notReady <= MaxAddresses {
		return subsets, false
	}
	trimReady := ready > MaxAddresses
	budget, total := MaxAddresses-ready, notReady
	if trimReady {
		budget, total = MaxAddresses, ready
	}
	left := budget
	out := subsets[:0]
	for _, ss := range subsets {
		n := len(ss.NotReadyAddresses)
		if trimReady {
			n = len(ss.Addresses)
		}
		share := min(ceilDiv(n*budget, total), left)
		if trimReady {
			ss.Addresses, ss.NotReadyAddresses = ss.Addresses[:min(share, n)], nil
		} else {
			ss.NotReadyAddresses = ss.NotReadyAddresses[:min(share, n)]
		}
		left -= min(share, n)
		if len(ss.Addresses)+len(ss.NotReadyAddresses) > 0 {
			out = append(out, ss)
		}
	}
	return out, true
}

func count(subsets []corev1.EndpointSubset) (ready, notReady int) {
	for _, ss := range subsets {
		ready += len(ss.Addresses)
		notReady += len(ss.NotReadyAddresses)
	}
	return ready, notReady
}

func ceilDiv(a, b int) int {
	if b == 0 {
		return 0
	}
	return (a + b - 1) / b
}
