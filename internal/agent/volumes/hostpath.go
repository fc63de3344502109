package volumes

import (
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
)

// CheckHostPath checks (or creates) a hostPath volume's path as its type
// asks, with kubelet's messages: DirectoryOrCreate and FileOrCreate
// create what is missing (a directory 0755 with its parents, an empty
// file 0644 without them); the other types only check.
func CheckHostPath(path string, typ *corev1.HostPathType) error {
	if typ == nil || *typ == corev1.HostPathUnset {
		return nil
	}
	st, err := os.Stat(path)
	exists := err == nil
	switch *typ {
	case corev1.HostPathDirectoryOrCreate:
		if !exists {
			return os.MkdirAll(path, 0o755)
		}
		fallthrough
	case corev1.HostPathDirectory:
		if !exists || !st.IsDir() {
			return fmt.Errorf("hostPath type check failed: %s is not a directory", path)
		}
	case corev1.HostPathFileOrCreate:
		if !exists {
			f, err := os.OpenFile(path, os.O_CREATE, 0o644)
			if err != nil {
				return err
			}
			return f.Close()
		}
		fallthrough
	case corev1.HostPathFile:
		if !exists || !st.Mode().IsRegular() {
			return fmt.Errorf("hostPath type check failed: %s is not a file", path)
		}
	case corev1.HostPathSocket:
		return checkMode(exists, st, os.ModeSocket, path, "a socket file")
	case corev1.HostPathCharDev:
		return checkMode(exists, st, os.ModeCharDevice, path, "a character device")
	case corev1.HostPathBlockDev:
		if !exists || st.Mode()&os.ModeDevice == 0 || st.Mode()&os.ModeCharDevice != 0 {
			return fmt.Errorf("hostPath type check failed: %s is not a block device", path)
		}
	default:
		return fmt.Errorf("%s is an invalid volume type", *typ)
	}
	return nil
}

func checkMode(exists bool, st os.FileInfo, bit os.FileMode, path, what string) error {
	if !exists || st.Mode()&bit == 0 {
		return fmt.Errorf("hostPath type check failed: %s is not %s", path, what)
	}
	return nil
}
