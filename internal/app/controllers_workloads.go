package app

// workloadControllers builds the Deployment, ReplicaSet, scheduler,
// garbage collector, namespace, node lifecycle/IPAM and LoadBalancer
// controllers.
func workloadControllers(d controllerDeps) ([]namedRun, error) {
	return nil, nil
}
