package imagestore

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Annotations naming an image in an OCI layout's index.json.
const (
	annotationContainerdName = "io.containerd.image.name"
	annotationRefName        = "org.opencontainers.image.ref.name"
)

func readOCI(a *archive) ([]srcImage, error) {
	if err := checkLayout(a); err != nil {
		return nil, err
	}
	data, err := a.readSmall("index.json")
	if err != nil {
		return nil, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("corrupt index.json: %w", err)
	}
	var imgs []srcImage
	for _, d := range idx.Manifests {
		img, ok, err := ociEntry(a, d)
		if err != nil {
			return nil, err
		}
		if ok {
			imgs = append(imgs, img)
		}
	}
	return imgs, nil
}

func checkLayout(a *archive) error {
	data, err := a.readSmall("oci-layout")
	if err != nil {
		return fmt.Errorf("not an OCI layout: %w", err)
	}
	var l struct{ ImageLayoutVersion string }
	if err := json.Unmarshal(data, &l); err != nil || l.ImageLayoutVersion == "" {
		return fmt.Errorf("not an OCI layout: corrupt oci-layout file")
	}
	return nil
}

// ociEntry reads the image an entry of index.json points to, directly or
// through an index (the entry for this machine's platform).
func ociEntry(a *archive, d v1.Descriptor) (srcImage, bool, error) {
	top := d
	if d.MediaType.IsIndex() {
		child, ok, err := platformManifest(a, d)
		if err != nil || !ok {
			return srcImage{}, false, err
		}
		d = child
	}
	if !d.MediaType.IsImage() {
		return srcImage{}, false, nil
	}
	img, err := ociImage(a, d, refsOf(top.Annotations))
	if err != nil {
		return srcImage{}, false, err
	}
	img.manifestDigest = top.Digest.String()
	return img, true, nil
}

// refsOf returns the references an index entry's annotations name:
// containerd's full name, or the OCI ref name when it is a full reference
// (not a bare tag, which names no repository).
func refsOf(ann map[string]string) []string {
	if n := ann[annotationContainerdName]; n != "" {
		return []string{n}
	}
	n := ann[annotationRefName]
	if n != "" && bytes.ContainsAny([]byte(n), "/:@") {
		if _, err := Normalize(n); err == nil {
			return []string{n}
		}
	}
	return nil
}

func platformManifest(a *archive, d v1.Descriptor) (v1.Descriptor, bool, error) {
	data, err := readBlob(a, d)
	if err != nil {
		return v1.Descriptor{}, false, err
	}
	idx, err := v1.ParseIndexManifest(bytes.NewReader(data))
	if err != nil {
		return v1.Descriptor{}, false, fmt.Errorf("corrupt image index %s: %w", d.Digest, err)
	}
	for _, m := range idx.Manifests {
		if m.MediaType.IsImage() && platformOK(m.Platform) {
			return m, true, nil
		}
	}
	return v1.Descriptor{}, false, nil
}

func ociImage(a *archive, d v1.Descriptor, refs []string) (srcImage, error) {
	raw, err := readBlob(a, d)
	if err != nil {
		return srcImage{}, err
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return srcImage{}, fmt.Errorf("corrupt manifest %s: %w", d.Digest, err)
	}
	rawConfig, err := readBlob(a, m.Config)
	if err != nil {
		return srcImage{}, err
	}
	img, err := newSrcImage(rawConfig, refs)
	if err != nil {
		return srcImage{}, err
	}
	img.size = int64(len(raw) + len(rawConfig))
	for _, l := range m.Layers {
		if !a.has(blobName(l.Digest)) {
			return srcImage{}, fmt.Errorf("image %s: layer blob %s is not in the archive", img.id, l.Digest)
		}
		img.size += l.Size
		img.layers = append(img.layers, srcLayer{file: blobName(l.Digest)})
	}
	return img, setDiffIDs(&img)
}

func blobName(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }

// readBlob reads a small blob and checks its digest.
func readBlob(a *archive, d v1.Descriptor) ([]byte, error) {
	if d.Digest.Algorithm != "sha256" {
		return nil, fmt.Errorf("unsupported digest %s", d.Digest)
	}
	data, err := a.readSmall(blobName(d.Digest))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != d.Digest.Hex {
		return nil, fmt.Errorf("corrupt archive: blob %s does not match its digest", d.Digest)
	}
	return data, nil
}
