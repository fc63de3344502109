// Command imgprobe is the program of the image the isolation test builds
// and imports: it prints its arguments, working directory, user and the
// environment variable PROBE_MODE, then sleeps until killed.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	wd, _ := os.Getwd()
	fmt.Printf("args=%s\n", strings.Join(os.Args, " "))
	fmt.Printf("cwd=%s uid=%d mode=%s\n", wd, os.Getuid(), os.Getenv("PROBE_MODE"))
	for {
		time.Sleep(time.Hour)
	}
}
