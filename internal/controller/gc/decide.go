package gc

import (
	"encoding/json"
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// OwnerState is what a lookup found of an owner.
type OwnerState int

const (
	// OwnerSolid exists and is not waiting for its dependents.
	OwnerSolid OwnerState = iota
	// OwnerDangling is gone (or replaced by an object with another UID).
	OwnerDangling
	// OwnerWaiting is in foreground deletion, waiting for its dependents.
	OwnerWaiting
)

// ActionKind is what the collector does with one object.
type ActionKind int

const (
	// ActNone leaves the object alone.
	ActNone ActionKind = iota
	// ActRemoveRefs drops references to owners that are gone or waiting,
	// since other owners keep the object.
	ActRemoveRefs
	// ActDelete deletes the object with Policy, after clearing
	// blockOwnerDeletion on the references in Unblock.
	ActDelete
)

// Action is the collector's decision for one dependent.
type Action struct {
	Kind    ActionKind
	UIDs    []types.UID
	Policy  metav1.DeletionPropagation
	Unblock bool
}

// Decide is upstream's attemptToDeleteItem as a value: an object with a
// solid owner keeps living (losing references to absent owners); one
// whose owners are all gone or waiting is deleted, in the foreground when
// an owner waits and it has dependents of its own, else with the policy
// its own finalizers ask for.
func Decide(n *Node, states map[types.UID]OwnerState, hasDependents bool) Action {
	var solid, stale, waiting []types.UID
	for _, ref := range n.Owners {
		switch states[ref.UID] {
		case OwnerSolid:
			solid = append(solid, ref.UID)
		case OwnerDangling:
			stale = append(stale, ref.UID)
		case OwnerWaiting:
			stale = append(stale, ref.UID)
			waiting = append(waiting, ref.UID)
		}
	}
	switch {
	case len(n.Owners) == 0:
		return Action{Kind: ActNone}
	case len(solid) > 0 && len(stale) == 0:
		return Action{Kind: ActNone}
	case len(solid) > 0:
		return Action{Kind: ActRemoveRefs, UIDs: stale}
	case len(waiting) > 0 && hasDependents:
		return Action{Kind: ActDelete, Policy: metav1.DeletePropagationForeground, UIDs: waiting, Unblock: true}
	}
	return Action{Kind: ActDelete, Policy: ownPolicy(n)}
}

// ownPolicy is the propagation an object's own finalizers ask for.
func ownPolicy(n *Node) metav1.DeletionPropagation {
	switch {
	case slices.Contains(n.Finalizers, metav1.FinalizerOrphanDependents):
		return metav1.DeletePropagationOrphan
	case slices.Contains(n.Finalizers, metav1.FinalizerDeleteDependents):
		return metav1.DeletePropagationForeground
	}
	return metav1.DeletePropagationBackground
}

// removeRefsPatch is the strategic merge patch that drops the references
// to owners from the object with uid.
func removeRefsPatch(uid types.UID, owners []types.UID) []byte {
	refs := make([]map[string]any, len(owners))
	for i, o := range owners {
		refs[i] = map[string]any{"$patch": "delete", "uid": o}
	}
	return mustJSON(map[string]any{"metadata": map[string]any{"ownerReferences": refs, "uid": uid}})
}

// unblockPatch clears blockOwnerDeletion on the references to owners.
func unblockPatch(uid types.UID, owners []types.UID) []byte {
	refs := make([]map[string]any, len(owners))
	for i, o := range owners {
		refs[i] = map[string]any{"uid": o, "blockOwnerDeletion": false}
	}
	return mustJSON(map[string]any{"metadata": map[string]any{"ownerReferences": refs, "uid": uid}})
}

// finalizersPatch is the JSON merge patch that sets the finalizers,
// guarded by the resource version they were read at.
func finalizersPatch(finalizers []string, resourceVersion string) []byte {
	if finalizers == nil {
		finalizers = []string{}
	}
	return mustJSON(map[string]any{"metadata": map[string]any{"finalizers": finalizers, "resourceVersion": resourceVersion}})
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal patch: %v", err))
	}
	return data
}
