package nftables

import (
	"context"
	"strings"

	"sigs.k8s.io/knftables"
)

// affinityEntries lists the dynamic affinity map (client . K : endpoint);
// nil when it cannot be read (a new table has none).
func (b *Backend) affinityEntries(ctx context.Context) []*knftables.Element {
	els, err := b.nft.ListElements(ctx, "map", mapAffinity)
	if err != nil {
		return nil
	}
	return els
}

// deleteStaleAffinity deletes the affinity entries of service keys that
// no longer have affinity, or that point at an endpoint the key no longer
// uses, so a client is never held to a gone endpoint. An entry can time
// out between the listing and the transaction, so each is added (a no-op
// when present) before it is deleted.
func (b *Backend) deleteStaleAffinity(tx *knftables.Transaction, entries []*knftables.Element) {
	if len(entries) == 0 {
		return
	}
	valid := b.affinityTargets()
	for _, e := range entries {
		if len(e.Key) != 4 || len(e.Value) != 2 {
			continue
		}
		k := normalizeKey(e.Key[1:])
		if targets, ok := valid[k]; ok && targets[strings.Join(e.Value, " . ")] {
			continue
		}
		obj := &knftables.Element{Map: mapAffinity, Key: e.Key, Value: e.Value}
		tx.Add(obj)
		tx.Delete(obj)
	}
}

// affinityTargets maps each service key with affinity to the endpoints
// (ip . port) it may use.
func (b *Backend) affinityTargets() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, c := range b.claims {
		if c.set == mapAffinitySvcs {
			out[strings.Join(c.key, " . ")] = map[string]bool{}
		}
	}
	for _, c := range b.claims {
		proto, ok := epMapProto(c.set)
		if !ok {
			continue
		}
		if targets, ok := out[c.key[0]+" . "+proto+" . "+c.key[1]]; ok {
			targets[strings.Join(c.value, " . ")] = true
		}
	}
	return out
}

// epMapProto is the protocol of an endpoints map's name.
func epMapProto(set string) (string, bool) {
	for _, base := range []string{mapEPCluster, mapEPLocal} {
		if p, ok := strings.CutPrefix(set, base+"-"); ok {
			return p, true
		}
	}
	return "", false
}

// normalizeKey writes a listed (address, protocol, port) key as the
// renderer does: nft may print protocols by number.
func normalizeKey(k []string) string {
	proto := k[1]
	switch proto {
	case "6":
		proto = "tcp"
	case "17":
		proto = "udp"
	case "132":
		proto = "sctp"
	}
	return k[0] + " . " + proto + " . " + k[2]
}
