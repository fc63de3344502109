package storage_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/svcplane/svcplane/internal/storage"
	"github.com/svcplane/svcplane/internal/storage/memory"
)

func TestRunCompactor(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	s := memory.New(memory.Config{})
	first, err := s.Create(ctx, "/registry/pods/default/a", []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, "/registry/pods/default/a", []byte("b"), first); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		done <- storage.RunCompactor(ctx, storage.CompactorConfig{Store: s, Interval: time.Millisecond})
	}()
	for {
		_, err := s.List(ctx, "/registry/pods/", storage.ListOptions{Revision: first})
		if errors.Is(err, storage.ErrCompacted) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("RunCompactor: %v", err)
	}
}

func TestRunCompactorNeedsStore(t *testing.T) {
	if err := storage.RunCompactor(t.Context(), storage.CompactorConfig{}); err == nil {
		t.Error("RunCompactor without a store succeeded")
	}
}
