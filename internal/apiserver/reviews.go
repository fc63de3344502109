package apiserver

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/svcplane/svcplane/internal/authz"
)

// answerFunc answers a create of a resource that is never stored (a
// review): obj is the decoded body, namespace the request's.
type answerFunc func(ctx context.Context, obj runtime.Object, namespace string) (runtime.Object, error)

// answerers are the create handlers of the review resources.
func (s *Server) answerers() map[schema.GroupResource]answerFunc {
	g := authorizationv1.GroupName
	return map[schema.GroupResource]answerFunc{
		{Group: g, Resource: "subjectaccessreviews"}:      s.subjectAccessReview,
		{Group: g, Resource: "selfsubjectaccessreviews"}:  s.selfSubjectAccessReview,
		{Group: g, Resource: "localsubjectaccessreviews"}: s.localSubjectAccessReview,
		{Group: g, Resource: "selfsubjectrulesreviews"}:   s.selfSubjectRulesReview,
	}
}

// serveAnswered serves a resource that only answers creates.
func (h *resource) serveAnswered(w http.ResponseWriter, r *http.Request, info requestInfo) {
	answer := h.srv.answer[h.def.GroupResource()]
	if info.Verb != "create" || info.Subresource != "" || answer == nil || !slices.Contains(h.def.Verbs, "create") {
		writeError(w, apierrors.NewMethodNotSupported(h.def.GroupResource(), info.Verb))
		return
	}
	h.serveWrite(w, r, func(opts writeOptions) (runtime.Object, int, []string, error) {
		obj, warnings, err := h.decodeNew(r, opts)
		if err != nil {
			return nil, 0, nil, err
		}
		out, err := answer(r.Context(), obj, info.Namespace)
		return out, http.StatusCreated, warnings, err
	})
}

func (s *Server) subjectAccessReview(ctx context.Context, obj runtime.Object, _ string) (runtime.Object, error) {
	sar := obj.(*authorizationv1.SubjectAccessReview)
	errs := validateReviewSpec(sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	if sar.Spec.User == "" && len(sar.Spec.Groups) == 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "user"), sar.Spec.User, "at least one of user or group must be specified"))
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(sar.GroupVersionKind().GroupKind(), "", errs)
	}
	u := authz.User{Name: sar.Spec.User, UID: sar.Spec.UID, Groups: sar.Spec.Groups, Extra: extraOf(sar.Spec.Extra)}
	sar.Status = s.review(ctx, u, sar.Spec.ResourceAttributes, sar.Spec.NonResourceAttributes)
	return sar, nil
}

func (s *Server) selfSubjectAccessReview(ctx context.Context, obj runtime.Object, _ string) (runtime.Object, error) {
	ssar := obj.(*authorizationv1.SelfSubjectAccessReview)
	if errs := validateReviewSpec(ssar.Spec.ResourceAttributes, ssar.Spec.NonResourceAttributes); len(errs) > 0 {
		return nil, apierrors.NewInvalid(ssar.GroupVersionKind().GroupKind(), "", errs)
	}
	u, ok := UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	ssar.Status = s.review(ctx, authzUser(u), ssar.Spec.ResourceAttributes, ssar.Spec.NonResourceAttributes)
	return ssar, nil
}

func (s *Server) localSubjectAccessReview(ctx context.Context, obj runtime.Object, namespace string) (runtime.Object, error) {
	lsar := obj.(*authorizationv1.LocalSubjectAccessReview)
	spec := lsar.Spec
	errs := validateReviewSpec(spec.ResourceAttributes, spec.NonResourceAttributes)
	if spec.NonResourceAttributes != nil {
		errs = append(errs, field.Invalid(field.NewPath("spec", "nonResourceAttributes"), spec.NonResourceAttributes, "disallowed on this kind of request"))
	}
	if spec.User == "" && len(spec.Groups) == 0 {
		errs = append(errs, field.Invalid(field.NewPath("spec", "user"), spec.User, "at least one of user or group must be specified"))
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(lsar.GroupVersionKind().GroupKind(), "", errs)
	}
	if spec.ResourceAttributes.Namespace != namespace {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("spec.resourceAttributes.namespace must match namespace: %v", namespace))
	}
	u := authz.User{Name: spec.User, UID: spec.UID, Groups: spec.Groups, Extra: extraOf(spec.Extra)}
	lsar.Status = s.review(ctx, u, spec.ResourceAttributes, nil)
	return lsar, nil
}

// validateReviewSpec is upstream's check that exactly one of the
// attribute kinds is set.
func validateReviewSpec(ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) field.ErrorList {
	spec := field.NewPath("spec")
	switch {
	case ra != nil && nra != nil:
		return field.ErrorList{field.Invalid(spec.Child("nonResourceAttributes"), nra, "cannot be specified in combination with resourceAttributes")}
	case ra == nil && nra == nil:
		return field.ErrorList{field.Invalid(spec.Child("resourceAttributes"), nra, "exactly one of nonResourceAttributes or resourceAttributes must be specified")}
	}
	return nil
}

// review asks the authorizer chain about a user and attributes.
func (s *Server) review(ctx context.Context, u authz.User, ra *authorizationv1.ResourceAttributes, nra *authorizationv1.NonResourceAttributes) authorizationv1.SubjectAccessReviewStatus {
	a := authz.Attributes{User: u}
	if ra != nil {
		a.ResourceRequest = true
		a.Verb, a.APIGroup, a.APIVersion = ra.Verb, ra.Group, ra.Version
		a.Namespace, a.Resource, a.Subresource, a.Name = ra.Namespace, ra.Resource, ra.Subresource, ra.Name
	} else {
		a.Verb, a.Path = nra.Verb, nra.Path
	}
	if s.authz == nil {
		return authorizationv1.SubjectAccessReviewStatus{Allowed: true}
	}
	d, reason, err := s.authz.chain.Authorize(ctx, a)
	st := authorizationv1.SubjectAccessReviewStatus{Allowed: d == authz.Allow, Denied: d == authz.Deny, Reason: reason}
	if err != nil {
		st.EvaluationError = err.Error()
	}
	return st
}

func (s *Server) selfSubjectRulesReview(ctx context.Context, obj runtime.Object, _ string) (runtime.Object, error) {
	ssrr := obj.(*authorizationv1.SelfSubjectRulesReview)
	if ssrr.Spec.Namespace == "" {
		return nil, apierrors.NewBadRequest("no namespace on request")
	}
	u, ok := UserFrom(ctx)
	if !ok {
		return nil, apierrors.NewBadRequest("no user present on request")
	}
	if s.authz == nil {
		ssrr.Status = authorizationv1.SubjectRulesReviewStatus{Incomplete: true,
			ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{}}
		return ssrr, nil
	}
	rules, errs := s.authz.rbac.RulesFor(authzUser(u), ssrr.Spec.Namespace)
	ssrr.Status = rulesStatus(rules, errs)
	return ssrr, nil
}

// rulesStatus turns policy rules into a rules review's status.
func rulesStatus(rules []rbacv1.PolicyRule, errs []error) authorizationv1.SubjectRulesReviewStatus {
	st := authorizationv1.SubjectRulesReviewStatus{
		ResourceRules: []authorizationv1.ResourceRule{}, NonResourceRules: []authorizationv1.NonResourceRule{},
	}
	for _, r := range rules {
		if len(r.NonResourceURLs) > 0 {
			st.NonResourceRules = append(st.NonResourceRules, authorizationv1.NonResourceRule{Verbs: r.Verbs, NonResourceURLs: r.NonResourceURLs})
			continue
		}
		st.ResourceRules = append(st.ResourceRules, authorizationv1.ResourceRule{
			Verbs: r.Verbs, APIGroups: r.APIGroups, Resources: r.Resources, ResourceNames: r.ResourceNames,
		})
	}
	if len(errs) > 0 {
		st.Incomplete = true
		texts := make([]string, len(errs))
		for i, e := range errs {
			texts[i] = e.Error()
		}
		st.EvaluationError = strings.Join(texts, ", ")
	}
	return st
}

func extraOf(in map[string]authorizationv1.ExtraValue) map[string][]string {
	if in == nil {
		return nil
	}
	out := make(map[string][]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}
