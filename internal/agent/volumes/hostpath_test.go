package volumes

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestCheckHostPath(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	missing := filepath.Join(dir, "missing")
	for _, tc := range []struct {
		path string
		typ  corev1.HostPathType
		want string
	}{
		{missing, corev1.HostPathUnset, ""},
		{dir, corev1.HostPathDirectory, ""},
		{file, corev1.HostPathDirectory, "hostPath type check failed: " + file + " is not a directory"},
		{missing, corev1.HostPathDirectory, "hostPath type check failed: " + missing + " is not a directory"},
		{file, corev1.HostPathFile, ""},
		{dir, corev1.HostPathFile, "hostPath type check failed: " + dir + " is not a file"},
		{sock, corev1.HostPathSocket, ""},
		{file, corev1.HostPathSocket, "hostPath type check failed: " + file + " is not a socket file"},
		{"/dev/null", corev1.HostPathCharDev, ""},
		{file, corev1.HostPathCharDev, "hostPath type check failed: " + file + " is not a character device"},
		{"/dev/null", corev1.HostPathBlockDev, "hostPath type check failed: /dev/null is not a block device"},
		{file, corev1.HostPathDirectoryOrCreate, "hostPath type check failed: " + file + " is not a directory"},
		{dir, "Bogus", "Bogus is an invalid volume type"},
	} {
		typ := tc.typ
		err := CheckHostPath(tc.path, &typ)
		if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.path, tc.typ, err, tc.want)
		}
	}
	created := filepath.Join(dir, "a", "b")
	typ := corev1.HostPathDirectoryOrCreate
	if err := CheckHostPath(created, &typ); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(created); err != nil || !st.IsDir() {
		t.Fatalf("DirectoryOrCreate made no directory: %v", err)
	}
	typ = corev1.HostPathFileOrCreate
	newFile := filepath.Join(dir, "new")
	if err := CheckHostPath(newFile, &typ); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(newFile); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("FileOrCreate made no file: %v", err)
	}
	if err := CheckHostPath(filepath.Join(dir, "no", "parent"), &typ); err == nil {
		t.Fatal("FileOrCreate made parent directories")
	}
}
