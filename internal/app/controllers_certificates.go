package app

import (
	"fmt"
	"os"

	"github.com/svcplane/svcplane/internal/controller/bootstrapsigner"
	"github.com/svcplane/svcplane/internal/controller/csrapproving"
	"github.com/svcplane/svcplane/internal/controller/csrsigning"
)

// certificateControllers builds the csrapproving and bootstrapsigner
// controllers and, given the cluster signing key pair, csrsigning.
func certificateControllers(d controllerDeps) ([]namedRun, error) {
	csrs := d.Informers.Certificates().V1().CertificateSigningRequests()
	approver, err := csrapproving.New(csrapproving.Config{Client: d.Client, CSRs: csrs, Nodes: d.Informers.Core().V1().Nodes(), Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	signer, err := bootstrapsigner.New(bootstrapsigner.Config{Client: d.Client, ConfigMaps: d.Informers.Core().V1().ConfigMaps(),
		Secrets: d.Informers.Core().V1().Secrets(), Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	runs := []namedRun{{name: csrapproving.Name, run: runWith(approver.Run, 1)}, {name: bootstrapsigner.Name, run: runWith(signer.Run, 1)}}
	s := d.Settings
	if s.ClusterSigningCertFile == "" {
		d.Logger.Warn("no --cluster-signing-cert-file: approved CertificateSigningRequests are not signed")
		return runs, nil
	}
	ca, err := loadSigningCA(s.ClusterSigningCertFile, s.ClusterSigningKeyFile)
	if err != nil {
		return nil, err
	}
	c, err := csrsigning.New(csrsigning.Config{Client: d.Client, CSRs: csrs, CA: ca, Duration: s.ClusterSigningDuration, Logger: d.Logger})
	if err != nil {
		return nil, err
	}
	return append(runs, namedRun{name: csrsigning.Name, run: runWith(c.Run, 1)}), nil
}

func loadSigningCA(certFile, keyFile string) (csrsigning.CA, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return csrsigning.CA{}, fmt.Errorf("cluster signing cert: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return csrsigning.CA{}, fmt.Errorf("cluster signing key: %w", err)
	}
	return csrsigning.ParseCA(certPEM, keyPEM)
}
