// Package imagestore keeps the container images imported on a node from
// archives (`docker save` tarballs and OCI image-layout archives), with
// their layers unpacked once, content-addressed, and shared between
// images, ready to be stacked as overlayfs lower directories.
//
// Layout on disk, under the store directory (<data dir>/images):
//
//	lock                          flock(2)ed by a writer (Import, Remove)
//	refs.json                     the committed images: image ID -> its references
//	images/sha256-<hex>.json      one image (hex of its config digest, the image ID):
//	                              config, layer diffIDs, manifest digest, size
//	layers/sha256-<hex>/          one unpacked layer (hex of its diffID), usable as
//	                              an overlayfs lowerdir: a `.wh.name` whiteout is a
//	                              0:0 character device `name`, an opaque directory
//	                              (`.wh..wh..opq`) has trusted.overlay.opaque=y
//	leases/<holder>               an image ID a holder (a container) uses: Remove
//	                              keeps that image's record and layers until released
//	tmp/                          layers being unpacked, layers being deleted
//
// refs.json is the single commit point and is only ever replaced by
// rename(2): a layer is unpacked under tmp/ and renamed into layers/, the
// image record is written and renamed into images/, and only then does
// refs.json name the image. A reader (the agent) therefore never sees half
// an image, and a crash mid-import leaves only unreferenced files, which
// the next writer removes. Writers serialize on the lock file; readers take
// no lock.
//
// Extraction never follows a symlink on the host: each entry's parent is
// opened with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) from the layer's
// root and the entry is made with the *at calls relative to it. Entries
// with absolute or `..` names, hard links out of the layer, relative
// symlinks that climb out of the layer root, entries under a symlink,
// device files and corrupt or truncated archives are refused with an
// *EntryError naming the entry, and nothing of the import is kept.
// Absolute symlinks (bin/sh -> /bin/busybox) are kept: they resolve inside
// the container's root. Modes, owners, times and xattrs are kept, except
// xattrs of the trusted. namespace, which would steer overlayfs.
//
// References are normalized as containerd and the kubelet see them:
// busybox is docker.io/library/busybox:latest.
package imagestore
