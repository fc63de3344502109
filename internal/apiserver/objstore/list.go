package objstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/svcplane/svcplane/internal/storage"
)

// ListOptions narrow a List.
type ListOptions struct {
	// Namespace limits the list to one namespace; "" lists all.
	Namespace string
	// Revision reads the objects as they were then; 0 reads the newest.
	Revision int64
	// Limit caps the items of one page; 0 returns all.
	Limit int64
	// Continue is the token of the previous page.
	Continue string
	// Match keeps only the objects it returns true for; nil keeps all.
	Match func(runtime.Object) bool
}

// ListResult is one page of a list.
type ListResult struct {
	Items    []runtime.Object
	Revision int64
	// Continue is set when more items may follow.
	Continue string
}

type continueToken struct {
	APIVersion string `json:"v"`
	Revision   int64  `json:"rv"`
	Start      string `json:"start"`
}

// chunk is how many keys one storage read fetches while filtering.
const chunk = 500

// List reads the objects under the namespace (or all) that Match keeps.
func (s *Store) List(ctx context.Context, opts ListOptions) (ListResult, error) {
	prefix := s.Prefix(opts.Namespace)
	start, rev, err := s.startOf(prefix, opts)
	if err != nil {
		return ListResult{}, err
	}
	var res ListResult
	for {
		page, err := s.cfg.Storage.List(ctx, prefix, storage.ListOptions{Revision: rev, StartKey: start, Limit: pageSize(opts.Limit)})
		if err != nil {
			return ListResult{}, s.listError(err, opts.Continue != "")
		}
		rev = page.Revision
		last, full, err := s.collect(&res, page.KVs, opts)
		if err != nil {
			return ListResult{}, err
		}
		if full && (last < len(page.KVs)-1 || page.More) {
			res.Continue = EncodeContinue(rev, page.KVs[last].Key+"\x00", prefix)
			break
		}
		if !page.More || len(page.KVs) == 0 {
			break
		}
		start = page.KVs[len(page.KVs)-1].Key + "\x00"
	}
	res.Revision = rev
	return res, nil
}

// collect decodes and filters kvs into res until the limit is reached. It
// returns the index of the last kv looked at and whether the page is full.
func (s *Store) collect(res *ListResult, kvs []storage.KV, opts ListOptions) (int, bool, error) {
	for i, kv := range kvs {
		obj, err := s.Decode(kv.Value, kv.ModRevision)
		if err != nil {
			return i, false, apierrors.NewInternalError(err)
		}
		if opts.Match != nil && !opts.Match(obj) {
			continue
		}
		res.Items = append(res.Items, obj)
		if opts.Limit > 0 && int64(len(res.Items)) >= opts.Limit {
			return i, true, nil
		}
	}
	return len(kvs) - 1, false, nil
}

func pageSize(limit int64) int64 {
	if limit <= 0 {
		return 0
	}
	if limit < chunk {
		return limit + 1
	}
	return limit
}

func (s *Store) startOf(prefix string, opts ListOptions) (string, int64, error) {
	if opts.Continue == "" {
		return prefix, opts.Revision, nil
	}
	rev, start, err := DecodeContinue(opts.Continue)
	if err != nil {
		return "", 0, err
	}
	return prefix + start, rev, nil
}

func (s *Store) listError(err error, continuing bool) error {
	if continuing && apierrors.IsResourceExpired(s.statusError(err, "")) {
		return apierrors.NewResourceExpired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
	}
	return s.statusError(err, "")
}

// EncodeContinue makes the opaque token, in kube-apiserver's format: the
// revision of the first page and the key to start at, relative to the
// list's prefix.
func EncodeContinue(rev int64, key, prefix string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", Revision: rev, Start: strings.TrimPrefix(key, prefix)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeContinue reads a continue token: the revision of the first page
// and the key to start at, relative to the list's prefix. A bad token is
// a 400 Status error.
func DecodeContinue(s string) (int64, string, error) {
	tok, err := decodeContinue(s)
	if err != nil {
		return 0, "", apierrors.NewBadRequest("continue key is not valid: " + err.Error())
	}
	return tok.Revision, tok.Start, nil
}

func decodeContinue(s string) (continueToken, error) {
	var tok continueToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return tok, err
	}
	if err := json.Unmarshal(b, &tok); err != nil {
		return tok, err
	}
	if tok.Revision <= 0 || strings.Contains(tok.Start, "..") {
		return tok, errIncorrectToken
	}
	return tok, nil
}

var errIncorrectToken = apierrors.NewBadRequest("incorrect continue token")

// Revision reads storage's current revision.
func (s *Store) Revision(ctx context.Context) (int64, error) {
	rev, err := s.cfg.Storage.Revision(ctx)
	if err != nil {
		return 0, s.statusError(err, "")
	}
	return rev, nil
}

// CheckRevision answers 410 Gone when rev has been compacted away, with one
// read of at most one key at that revision.
func (s *Store) CheckRevision(ctx context.Context, rev int64) error {
	_, err := s.cfg.Storage.List(ctx, s.Prefix(""), storage.ListOptions{Revision: rev, Limit: 1})
	if err != nil {
		return s.statusError(err, "")
	}
	return nil
}
