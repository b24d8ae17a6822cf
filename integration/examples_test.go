// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// Every example config we ship passes `rsyslogd -N1` (module path and
// certificate files pointed at test copies).
func TestExampleConfigsAreValid(t *testing.T) {
	build, err := rsyslogtest.BuildDir()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../rsyslog-conf/*.conf")
	if len(files) < 3 {
		t.Fatalf("found only %d example configs", len(files))
	}
	// The container's config takes its settings from the environment.
	files = append(files, "../docker/rsyslog.conf")
	for k, v := range map[string]string{"HEC_URL": "https://splunk:8088", "HEC_TOKEN": "t", "HEC_INDEX": "",
		"HEC_SOURCETYPE": "syslog", "HEC_TLS_VERIFY": "on", "SYSLOG_PORT": "5514",
		"HEC_TLS_CACERT": "/etc/ssl/certs/ca-certificates.crt"} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	// Real PEM files: -N1 reads them (TestConfigCheckReadsTLSFiles).
	tc, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(tc.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	for f, content := range map[string][]byte{"ca.pem": caPEM, "client.pem": caPEM, "client.key": keyPEM,
		"splunk-ca.pem": caPEM, "splunk-hec.token": []byte("11111111-2222-3333-4444-555555555555")} {
		if err := os.WriteFile(filepath.Join(dir, f), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			conf := strings.NewReplacer(
				`module(load="omsplunkgo"`, `module(load="`+build+`/omsplunkgo.so"`,
				"/etc/rsyslog.d/tls/", dir+"/", "/etc/ssl/certs/", dir+"/", "/etc/rsyslog.d/", dir+"/",
				"/var/spool/rsyslog", dir,
			).Replace(string(b))
			path := filepath.Join(dir, filepath.Base(f))
			if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
				t.Fatal(err)
			}
			code, out, err := rsyslogtest.Validate(path)
			if err != nil || code != 0 {
				t.Fatalf("rsyslogd -N1 %s: exit %d %v\n%s", f, code, err, out)
			}
		})
	}
}
