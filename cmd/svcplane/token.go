package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/svcplane/svcplane/internal/bootstraptoken"
)

// runToken is `svcplane token create [--ttl 24h]`: a bootstrap token for
// a node to join with, printed as the join command.
func runToken(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return errors.New("usage: svcplane token create [--ttl 24h] [--data-dir dir | --kubeconfig file]")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	cluster := addClusterFlags(fs, false)
	ttl := fs.Duration("ttl", bootstraptoken.DefaultTTL, "how long the token authenticates; 0 never expires")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	rc, err := cluster.restConfig()
	if err != nil {
		return err
	}
	ca := rc.CAData
	if len(ca) == 0 && rc.CAFile != "" {
		if ca, err = os.ReadFile(rc.CAFile); err != nil {
			return err
		}
	}
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return err
	}
	tok, err := bootstraptoken.Create(ctx, client, *ttl)
	if err != nil {
		return err
	}
	line, err := bootstraptoken.JoinCommand(advertisedServer(ctx, client, rc.Host), tok, ca)
	if err != nil {
		return err
	}
	fmt.Println(line)
	return nil
}

// advertisedServer is the server the cluster-info ConfigMap names (the
// address nodes on other machines reach), else def.
func advertisedServer(ctx context.Context, client kubernetes.Interface, def string) string {
	cm, err := client.CoreV1().ConfigMaps("kube-public").Get(ctx, "cluster-info", metav1.GetOptions{})
	if err != nil {
		return def
	}
	kc, err := clientcmd.Load([]byte(cm.Data["kubeconfig"]))
	if err != nil {
		return def
	}
	for _, c := range kc.Clusters {
		if c.Server != "" {
			return c.Server
		}
	}
	return def
}
