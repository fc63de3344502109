package replicaset

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Claim is what a controller does with an object its selector may cover:
// upstream's ControllerRefManager rules as a value.
type Claim int

const (
	// ClaimIgnore: owned by another controller, or not ours to take.
	ClaimIgnore Claim = iota
	// ClaimOwned: already ours and still matching.
	ClaimOwned
	// ClaimAdopt: an orphan that matches; set our controller reference.
	ClaimAdopt
	// ClaimRelease: ours but no longer matching; drop our reference.
	ClaimRelease
)

// Owner is the controller claiming objects.
type Owner struct {
	UID       types.UID
	Namespace string
	// Deleting is true once the owner has a deletionTimestamp: it then
	// neither adopts nor releases.
	Deleting bool
}

// DecideClaim says what owner does with obj, given whether obj matches
// the owner's selector.
func DecideClaim(owner Owner, obj metav1.Object, matches bool) Claim {
	if ref := metav1.GetControllerOfNoCopy(obj); ref != nil {
		switch {
		case ref.UID != owner.UID:
			return ClaimIgnore
		case matches:
			return ClaimOwned
		case owner.Deleting:
			return ClaimIgnore
		}
		return ClaimRelease
	}
	if owner.Deleting || !matches || obj.GetDeletionTimestamp() != nil || obj.GetNamespace() != owner.Namespace {
		return ClaimIgnore
	}
	return ClaimAdopt
}

// AdoptPatch is the strategic merge patch that makes ref the controller
// of the object with uid.
func AdoptPatch(ref metav1.OwnerReference, uid types.UID) []byte {
	return mustJSON(map[string]any{"metadata": map[string]any{
		"ownerReferences": []metav1.OwnerReference{ref}, "uid": uid,
	}})
}

// ReleasePatch is the strategic merge patch that removes the reference to
// ownerUID from the object with uid.
func ReleasePatch(ownerUID, uid types.UID) []byte {
	return mustJSON(map[string]any{"metadata": map[string]any{
		"ownerReferences": []map[string]any{{"$patch": "delete", "uid": ownerUID}}, "uid": uid,
	}})
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal patch: %v", err))
	}
	return data
}

// PatchFunc applies a strategic merge patch to one named object.
type PatchFunc func(ctx context.Context, name string, patch []byte) error

// ApplyClaim adopts or releases obj as decided. Releasing an object that
// can no longer be changed (being deleted) is not an error.
func ApplyClaim(ctx context.Context, c Claim, ref metav1.OwnerReference, obj metav1.Object, patch PatchFunc) error {
	switch c {
	case ClaimAdopt:
		return patch(ctx, obj.GetName(), AdoptPatch(ref, obj.GetUID()))
	case ClaimRelease:
		err := patch(ctx, obj.GetName(), ReleasePatch(ref.UID, obj.GetUID()))
		if apierrors.IsInvalid(err) {
			return nil
		}
		return err
	}
	return nil
}
