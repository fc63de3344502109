package imagestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// srcImage is one image found in an archive, not yet unpacked.
type srcImage struct {
	id             string // sha256:<hex> of config
	refs           []string
	manifestDigest string
	config         *v1.ConfigFile
	layers         []srcLayer // lowest first
	size           int64
}

type srcLayer struct {
	file   string // the blob's name in the archive
	diffID string
}

// readImages finds the images of an archive: an OCI layout (index.json),
// else a `docker save` tarball (manifest.json). A docker save of Docker
// 25 and later is both: its manifest.json adds its RepoTags.
func readImages(a *archive) ([]srcImage, error) {
	var imgs []srcImage
	var err error
	switch {
	case a.has("index.json"):
		imgs, err = readOCI(a)
		if err == nil && a.has("manifest.json") {
			err = addDockerTags(a, imgs)
		}
	case a.has("manifest.json"):
		imgs, err = readDocker(a)
	default:
		return nil, errors.New("not an image archive: neither manifest.json (docker save) nor index.json (OCI layout)")
	}
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, errors.New("the archive holds no image")
	}
	return mergeByID(imgs), nil
}

// dockerEntry is one image of a docker save's manifest.json.
type dockerEntry struct {
	Config   string
	RepoTags []string
	Layers   []string
}

func readDockerManifest(a *archive) ([]dockerEntry, error) {
	data, err := a.readSmall("manifest.json")
	if err != nil {
		return nil, err
	}
	var entries []dockerEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, fmt.Errorf("corrupt manifest.json: %w", err)
	}
	return entries, nil
}

func readDocker(a *archive) ([]srcImage, error) {
	entries, err := readDockerManifest(a)
	if err != nil {
		return nil, err
	}
	var imgs []srcImage
	for _, e := range entries {
		img, err := dockerImage(a, e)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, nil
}

func dockerImage(a *archive, e dockerEntry) (srcImage, error) {
	raw, err := a.readSmall(e.Config)
	if err != nil {
		return srcImage{}, err
	}
	img, err := newSrcImage(raw, e.RepoTags)
	if err != nil {
		return srcImage{}, err
	}
	img.size = int64(len(raw))
	for _, l := range e.Layers {
		r, err := a.open(l)
		if err != nil {
			return srcImage{}, fmt.Errorf("image %s: %w", e.Config, err)
		}
		img.size += r.Size()
		img.layers = append(img.layers, srcLayer{file: l})
	}
	return img, setDiffIDs(&img)
}

// newSrcImage parses an image config and names the image.
func newSrcImage(rawConfig []byte, refs []string) (srcImage, error) {
	sum := sha256.Sum256(rawConfig)
	img := srcImage{id: "sha256:" + hex.EncodeToString(sum[:])}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(rawConfig))
	if err != nil {
		return img, fmt.Errorf("corrupt image config %s: %w", img.id, err)
	}
	img.config = cfg
	for _, r := range refs {
		n, err := Normalize(r)
		if err != nil {
			return img, fmt.Errorf("image %s: %w", img.id, err)
		}
		img.refs = append(img.refs, n)
	}
	return img, nil
}

// setDiffIDs gives each layer its diffID from the config.
func setDiffIDs(img *srcImage) error {
	ids := img.config.RootFS.DiffIDs
	if len(ids) != len(img.layers) {
		return fmt.Errorf("image %s: %d layers but %d diffIDs in its config", img.id, len(img.layers), len(ids))
	}
	for i, id := range ids {
		if id.Algorithm != "sha256" || len(id.Hex) != 64 || !isHex(id.Hex) {
			return fmt.Errorf("image %s: unsupported diffID %q", img.id, id)
		}
		img.layers[i].diffID = id.String()
	}
	return nil
}

// addDockerTags adds the RepoTags of a docker save's manifest.json to the
// images with the same config.
func addDockerTags(a *archive, imgs []srcImage) error {
	entries, err := readDockerManifest(a)
	if err != nil {
		return err
	}
	for _, e := range entries {
		raw, err := a.readSmall(e.Config)
		if err != nil {
			return err
		}
		tagged, err := newSrcImage(raw, e.RepoTags)
		if err != nil {
			return err
		}
		for i := range imgs {
			if imgs[i].id == tagged.id {
				imgs[i].refs = append(imgs[i].refs, tagged.refs...)
			}
		}
	}
	return nil
}

// mergeByID makes one image of those with the same config, with all their
// references.
func mergeByID(imgs []srcImage) []srcImage {
	var out []srcImage
	at := map[string]int{}
	for _, img := range imgs {
		i, ok := at[img.id]
		if !ok {
			at[img.id] = len(out)
			out = append(out, img)
			continue
		}
		out[i].refs = append(out[i].refs, img.refs...)
		if out[i].manifestDigest == "" {
			out[i].manifestDigest = img.manifestDigest
		}
	}
	for i := range out {
		out[i].refs = dedupe(out[i].refs)
	}
	return out
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// platformOK says whether an index entry runs on this machine.
func platformOK(p *v1.Platform) bool {
	return p == nil || (p.OS == "" || p.OS == runtime.GOOS) && (p.Architecture == "" || p.Architecture == runtime.GOARCH)
}
