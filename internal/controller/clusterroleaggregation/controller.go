// Package clusterroleaggregation is kube-controller-manager's
// clusterrole-aggregation controller: a ClusterRole with an
// aggregationRule gets as its rules the union of the rules of every other
// ClusterRole its selectors match (admin, edit and view are filled this
// way from the aggregate-to-* roles).
package clusterroleaggregation

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	rbacinformers "k8s.io/client-go/informers/rbac/v1"
	"k8s.io/client-go/kubernetes"
	rbaclisters "k8s.io/client-go/listers/rbac/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/svcplane/svcplane/internal/controller"
)

// Name is the controller's name.
const Name = "clusterrole-aggregation-controller"

// Config configures the controller.
type Config struct {
	Client       kubernetes.Interface
	ClusterRoles rbacinformers.ClusterRoleInformer
	Logger       *slog.Logger
}

// Controller fills aggregated ClusterRoles.
type Controller struct {
	cfg    Config
	roles  rbaclisters.ClusterRoleLister
	runner *controller.Runner
	synced cache.InformerSynced
}

// New builds the controller. Keys are ClusterRole names; any change to any
// ClusterRole queues every aggregating one.
func New(cfg Config) (*Controller, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Controller{cfg: cfg, roles: cfg.ClusterRoles.Lister(), synced: cfg.ClusterRoles.Informer().HasSynced}
	c.runner = controller.NewRunner(controller.RunnerConfig{Name: Name, Sync: c.sync, Logger: cfg.Logger})
	_, err := cfg.ClusterRoles.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { c.enqueueAggregating() },
		UpdateFunc: func(any, any) { c.enqueueAggregating() },
		DeleteFunc: func(any) { c.enqueueAggregating() },
	})
	if err != nil {
		return nil, fmt.Errorf("clusterrole aggregation handlers: %w", err)
	}
	return c, nil
}

// Run runs workers until ctx ends.
func (c *Controller) Run(ctx context.Context, workers int) {
	c.runner.Run(ctx, workers, c.synced)
}

func (c *Controller) enqueueAggregating() {
	all, err := c.roles.List(labels.Everything())
	if err != nil {
		return
	}
	for _, r := range all {
		if r.AggregationRule != nil {
			c.runner.Enqueue(r.Name)
		}
	}
}

func (c *Controller) sync(ctx context.Context, name string) error {
	role, err := c.roles.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if role.AggregationRule == nil {
		return nil
	}
	all, err := c.roles.List(labels.Everything())
	if err != nil {
		return err
	}
	rules, err := Aggregate(role, all)
	if err != nil {
		return err
	}
	if equality.Semantic.DeepEqual(rules, role.Rules) {
		return nil
	}
	updated := role.DeepCopy()
	updated.Rules = rules
	_, err = c.cfg.Client.RbacV1().ClusterRoles().Update(ctx, updated, metav1.UpdateOptions{FieldManager: Name})
	return err
}

// Aggregate returns the rules an aggregating role should hold: the rules
// of the roles each selector matches (the role itself excluded), roles
// taken in name order, each rule once.
func Aggregate(role *rbacv1.ClusterRole, all []*rbacv1.ClusterRole) ([]rbacv1.PolicyRule, error) {
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b *rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	var rules []rbacv1.PolicyRule
	for i := range role.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&role.AggregationRule.ClusterRoleSelectors[i])
		if err != nil {
			return nil, fmt.Errorf("clusterrole %s selector %d: %w", role.Name, i, err)
		}
		for _, other := range sorted {
			if other.Name == role.Name || !sel.Matches(labels.Set(other.Labels)) {
				continue
			}
			for _, r := range other.Rules {
				if !containsRule(rules, r) {
					rules = append(rules, r)
				}
			}
		}
	}
	return rules, nil
}

func containsRule(rules []rbacv1.PolicyRule, r rbacv1.PolicyRule) bool {
	return slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(x, r) })
}
