// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's commands on a machine without Go: scripts/setup-go.sh
// (which the Makefile and both README commands use) gets the Go of go.mod
// into a private directory, replacing no Go of the machine's, and the
// module's Go library builds with it from a PATH that has no Go.
func TestBuildOnAMachineWithoutGo(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	want := regexp.MustCompile(`(?m)^toolchain go(\S+)$`).FindStringSubmatch(string(mod))[1]
	// A PATH with no Go on it, and setup-go.sh told to pass over
	// /usr/local/go as if the machine had none.
	env := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + os.Getenv("HOME"), "OMSPLUNKGO_IGNORE_SYSTEM_GO=1"}
	if _, err := exec.LookPath("/usr/bin/go"); err == nil {
		t.Logf("note: /usr/bin/go exists on this machine; the check below shows it is not the one used")
	}
	cmd := exec.Command(filepath.Join(root, "scripts/setup-go.sh"))
	cmd.Env = env
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("setup-go.sh: %v\n%s", err, errText(err))
	}
	bin := strings.TrimSpace(string(out))
	if strings.HasPrefix(bin, "/usr/local/go") || strings.HasPrefix(bin, "/usr/bin") || strings.HasPrefix(bin, "/usr/lib/go") {
		t.Fatalf("setup-go.sh chose %s, a Go of the machine's, not its private one", bin)
	}
	ver, err := exec.Command(filepath.Join(bin, "go"), "env", "GOVERSION").Output()
	if err != nil || strings.TrimSpace(string(ver)) != "go"+want {
		t.Fatalf("%s/go is %q (%v), want go%s", bin, ver, err, want)
	}

	// The Makefile finds that Go by itself.
	build := t.TempDir()
	cmd = exec.Command("make", "-C", root, "BUILD="+build, build+"/libomsplunkgo.so")
	cmd.Env = append(env, "GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make without Go on PATH: %v\n%s", err, out)
	} else if !strings.Contains(string(out), bin+"/go build") {
		t.Fatalf("make did not build with %s/go:\n%s", bin, out)
	}
	if st, err := os.Stat(filepath.Join(build, "libomsplunkgo.so")); err != nil || st.Size() == 0 {
		t.Fatalf("no library built: %v", err)
	}
}

// goEnv reads a setting of the Go running the tests, so that the build
// above shares its caches (the test is about finding Go, not about
// downloading modules again).
func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

func errText(err error) string {
	if ee, ok := err.(*exec.ExitError); ok {
		return string(ee.Stderr)
	}
	return ""
}
