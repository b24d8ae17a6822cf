// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
)

// pkgFile finds what `make packages` built in $OMSPLUNKGO_PKGDIR.
func pkgFile(t *testing.T, pattern string) string {
	t.Helper()
	dir := os.Getenv("OMSPLUNKGO_PKGDIR")
	if dir == "" {
		t.Fatal("OMSPLUNKGO_PKGDIR is not set: run the tests with `make integration` after `make packages`")
	}
	found, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(found) != 1 {
		t.Fatalf("want one %s in %s, found %v: run `make packages`", pattern, dir, found)
	}
	return found[0]
}

func output(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// The Debian package puts the module where Debian's rsyslogd finds it by
// name, enables nothing, depends on rsyslog in the supported range, ships
// messages through the installed files, and `dpkg -P` leaves no file of it
// behind.
func TestDebianPackageInstallsShipsAndPurges(t *testing.T) {
	deb := pkgFile(t, "rsyslog-omsplunkgo_*.deb")
	if st, _ := exec.Command("dpkg-query", "-W", "-f=${Status}", "rsyslog-omsplunkgo").Output(); strings.Contains(string(st), "installed") {
		t.Fatal("rsyslog-omsplunkgo is installed on this machine; this test installs and purges the package it built, " +
			"which would remove yours: run the tests on a machine without it")
	}
	// Module files `make install` put into rsyslog's module directory would
	// be replaced and then purged with the package: keep them aside and put
	// them back, so the machine ends as it began.
	multiarch := strings.TrimSpace(output(t, "dpkg-architecture", "-qDEB_HOST_MULTIARCH"))
	modDir := "/usr/lib/" + multiarch + "/rsyslog"
	kept := map[string][]byte{}
	for _, f := range []string{"omsplunkgo.so", "libomsplunkgo.so"} {
		if b, err := os.ReadFile(filepath.Join(modDir, f)); err == nil {
			kept[f] = b
		}
	}
	output(t, "dpkg", "-i", deb)
	t.Cleanup(func() {
		exec.Command("dpkg", "-P", "rsyslog-omsplunkgo").Run()
		for f, b := range kept {
			if err := os.WriteFile(filepath.Join(modDir, f), b, 0o644); err != nil {
				t.Errorf("putting back %s/%s: %v", modDir, f, err)
			}
		}
	})

	deps := output(t, "dpkg-query", "-W", "-f=${Depends}", "rsyslog-omsplunkgo")
	if !strings.Contains(deps, "rsyslog (>= 8.2102)") || !strings.Contains(deps, "rsyslog (<< 8.2609)") {
		t.Fatalf("Depends: %s", deps)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(output(t, "dpkg", "-L", "rsyslog-omsplunkgo")), "\n") {
		if st, err := os.Stat(f); err == nil && !st.IsDir() {
			files = append(files, f)
		}
		if strings.HasPrefix(f, "/etc") {
			t.Fatalf("the package installs %s: nothing may be enabled by installing it", f)
		}
	}
	for _, want := range []string{"/usr/lib/" + multiarch + "/rsyslog/omsplunkgo.so", "/usr/lib/" + multiarch + "/rsyslog/libomsplunkgo.so",
		"/usr/share/doc/rsyslog-omsplunkgo/README.md.gz", "/usr/share/doc/rsyslog-omsplunkgo/examples/omsplunkgo-routing.conf",
		"/usr/share/doc/rsyslog-omsplunkgo/examples/README.md", "/usr/bin/omsplunkgo",
		"/usr/share/doc/rsyslog-omsplunkgo/examples/healthcheck.sh", "/usr/share/doc/rsyslog-omsplunkgo/examples/omsplunkgo.logrotate",
		"/usr/share/doc/rsyslog-omsplunkgo/omsplunkgo-tool.md.gz"} {
		found := false
		for _, f := range files {
			found = found || f == want
		}
		if !found {
			t.Fatalf("the package lacks %s; it has %v", want, files)
		}
	}

	// The license of every Go module linked into the library is stated.
	copyright, err := os.ReadFile("/usr/share/doc/rsyslog-omsplunkgo/copyright")
	if err != nil || !strings.Contains(string(copyright), "Files: vendor/github.com/valyala/fasthttp/*") ||
		!strings.Contains(string(copyright), "License: BSD-3-clause-Google") {
		t.Fatalf("the package's copyright file does not state the vendored modules' licenses (%v)", err)
	}

	// Loaded by name, as an admin would.
	const n = 2000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, ""))
	conf.Module = "omsplunkgo"
	if code, out := validate(t, conf); code != 0 {
		t.Fatalf("rsyslogd -N1 with module(load=\"omsplunkgo\"): exit %d\n%s", code, out)
	}
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
	if err := d.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}

	output(t, "dpkg", "-P", "rsyslog-omsplunkgo")
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("%s is still there after dpkg -P", f)
		}
	}
}

// The RPM for Fedora/RHEL puts the module into %{_libdir}/rsyslog and
// requires rsyslog in the supported range.
func TestRPMPackageFilesAndRequirements(t *testing.T) {
	rpm := pkgFile(t, "rpm/RPMS/*/rsyslog-omsplunkgo-*.rpm")
	list := output(t, "rpm", "-qpl", rpm)
	for _, want := range []string{"/usr/lib64/rsyslog/omsplunkgo.so", "/usr/lib64/rsyslog/libomsplunkgo.so", "/README.md",
		"/omsplunkgo-routing.conf", "/LICENSE", "/rsyslog-conf/README.md", "/omsplunkgo-tool.md",
		"/vendor-licenses/github.com/valyala/fasthttp/LICENSE", "/vendor-licenses/github.com/klauspost/compress/LICENSE"} {
		if !strings.Contains(list, want+"\n") {
			t.Fatalf("the RPM lacks %s:\n%s", want, list)
		}
	}
	reqs := output(t, "rpm", "-qpR", rpm)
	for _, want := range []string{"rsyslog >= 8.2102", "rsyslog < 8.2609"} {
		if !strings.Contains(reqs, want) {
			t.Fatalf("the RPM does not require %q:\n%s", want, reqs)
		}
	}
	// The spec and the Debian changelog name the same version.
	ver := strings.TrimSpace(output(t, "rpm", "-qp", "--qf", "%{VERSION}", rpm))
	deb := filepath.Base(pkgFile(t, "rsyslog-omsplunkgo_*.deb"))
	if !strings.HasPrefix(deb, "rsyslog-omsplunkgo_"+ver+"_") {
		t.Fatalf("RPM version %s, Debian package %s", ver, deb)
	}
}
