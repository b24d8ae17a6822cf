// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"

	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// `rsyslogd -N1` checks the action's parameters without starting Go: each
// mistake gives a message naming the parameter and a non-zero exit.
func TestConfigCheckNamesTheBadParameter(t *testing.T) {
	ok := `server="http://127.0.0.1:8088" token="abc"`
	cases := []struct {
		name, action, want string
	}{
		{"unknown parameter", ok + ` tokn="abc"`, "tokn"},
		{"missing token", `server="http://127.0.0.1:8088"`, "one of token or token.file is required"},
		{"token and token.file", ok + ` token.file="/etc/hostname"`, "set token or token.file, not both"},
		{"missing token file", `server="http://127.0.0.1:8088" token.file="/nonexistent/token"`, `token.file="/nonexistent/token" cannot be read`},
		{"token file not a regular file", `server="http://127.0.0.1:8088" token.file="/dev/null"`, "is not a regular file"},
		{"token with a control character", `server="http://127.0.0.1:8088" token="ab` + "\x01" + `c"`, "no white space or control"},
		{"unknown index template", ok + ` index.template="no_such_template"`, `index.template="no_such_template": no template of that name`},
		{"unknown fields template", ok + ` fields.template="nofields"`, `fields.template="nofields": no template of that name`},
		{"unknown event template", ok + ` template="nobody"`, `template="nobody": no template of that name`},
		{"four metadata templates", ok + ` index.template="RSYSLOG_FileFormat" source.template="RSYSLOG_TraditionalFileFormat"
		  sourcetype.template="RSYSLOG_ForwardFormat" host.template="RSYSLOG_SyslogProtocol23Format"`, "at most 3 different templates"},
		{"bad endpoint", ok + ` endpoint="collector"`, `endpoint="collector" must be "event" or "raw"`},
		{"missing server", `token="abc"`, "parameter 'server' required"},
		{"empty token", `server="http://127.0.0.1:8088" token=""`, "token must be"},
		{"scheme not http", `server="ftp://splunk:8088" token="abc"`, "must start with http:// or https://"},
		{"port out of range", `server="https://splunk:99999" token="abc"`, "is not a valid HEC URL"},
		{"path in URL", `server="https://splunk:8088/services/collector" token="abc"`, "is not a valid HEC URL"},
		{"no host", `server="http://:8088" token="abc"`, "is not a valid HEC URL"},
		{"one bad URL of several", `server=["http://a:8088", "http//b:8088"] token="abc"`, "http//b:8088"},
		{"not a number", ok + ` batch.maxevents="lots"`, "batch.maxevents"},
		{"zero batch", ok + ` batch.maxevents="0"`, "batch.maxevents=0 is out of range"},
		{"tiny request size", ok + ` batch.maxbytes="10"`, "batch.maxbytes=10 is out of range"},
		{"compress level", ok + ` compress="on" compress.level="12"`, "compress.level=12 is out of range"},
		{"timeout too short", ok + ` timeout="5"`, "timeout=5 is out of range"},
		{"bad switch", ok + ` compress="maybe"`, "compress"},
		{"missing CA file", ok + ` tls.cacert="/nonexistent/ca.pem"`, "tls.cacert"},
		{"missing spool dir", ok + ` spool.dir="/nonexistent/spool"`, "spool.dir"},
		{"bad oversize mode", ok + ` event.oversize="drop"`, `event.oversize="drop" must be`},
		{"zero event size", ok + ` event.maxbytes="0"`, "event.maxbytes=0 is out of range"},
		{"ack timeout too short", ok + ` useack="on" ack.timeout="10"`, "ack.timeout=10 is out of range"},
		{"empty window", ok + ` window.maxevents="0"`, "window.maxevents=0 is out of range"},
		{"tiny window", ok + ` window.maxbytes="1k"`, "window.maxbytes=1024 is out of range"},
		{"bad fsync switch", ok + ` window.fsync="sometimes"`, "window.fsync"},
		{"bad time source", ok + ` time.source="device"`, `time.source="device" must be`},
		{"guard without reported time", ok + ` time.source="received" time.maxpast="86400"`, "need time.source=\"reported\""},
		{"raw without a time", ok + ` endpoint="raw" time.source="extract"`, `with endpoint="raw" Splunk takes`},
		{"raw with the guard", ok + ` endpoint="raw" time.maxfuture="60"`, `with endpoint="raw" Splunk takes`},
		{"negative bound", ok + ` time.maxpast="-1"`, "time.maxpast=-1 is out of range"},
		{"https proxy", ok + ` proxy="https://proxy:3128"`, "an https:// proxy"},
		{"proxy with a path", ok + ` proxy="http://u:pw@proxy:3128/x"`, "bad port (1-65535) or a path"},
		{"proxy with a bad port", ok + ` proxy="http://proxy:99999"`, "bad port"},
		{"proxy without a host", ok + ` proxy="http://u:pw@:3128"`, "no host"},
		{"server name with a port", ok + ` tls.servername="splunk:8088"`, `tls.servername="splunk:8088" must be a host name`},
		{"star inside an allowed index", ok + ` index.allowed=["net_*_fw"]`, `"net_*_fw" must be a name`},
		{"fallback on refusal is the index", ok + ` index="main" index.onrefused="main"`, "index.onrefused is the action's own index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := validate(t, newConfig(t, c.action))
			if code == 0 {
				t.Fatalf("rsyslogd -N1 accepted the config; output:\n%s", out)
			}
			if !strings.Contains(out, c.want) {
				t.Fatalf("rsyslogd -N1 output does not mention %q:\n%s", c.want, out)
			}
		})
	}
}

// A proxy URL is never echoed by the config check: it may hold a password.
func TestConfigCheckHidesTheProxyPassword(t *testing.T) {
	for _, v := range []string{"https://u:hidden-pw@proxy:3128", "http://u:hidden-pw@proxy:3128/path", "socks5://u:hidden-pw@p:1"} {
		code, out := validate(t, newConfig(t, `server="http://127.0.0.1:8088" token="abc" proxy="`+v+`"`))
		if code == 0 || strings.Contains(out, "hidden-pw") || !strings.Contains(out, "proxy:") {
			t.Fatalf("proxy=%q: exit %d, want an error that does not show the password:\n%s", v, code, out)
		}
	}
}

// A token file that is a FIFO is refused at -N1 at once, not read (which
// would block rsyslogd); one holding control characters too.
func TestConfigCheckRefusesOddTokenFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "token.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	ctl := filepath.Join(dir, "token.ctl")
	if err := os.WriteFile(ctl, []byte("abc\x1bdef\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "token.empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, want string }{
		{fifo, "is not a regular file"}, {ctl, "holds control characters"}, {empty, "must hold one HEC token"},
	} {
		conf := newConfig(t, `server="http://127.0.0.1:8088" token.file="`+c.file+`"`)
		path, err := conf.Render()
		if err != nil {
			t.Fatal(err)
		}
		bin, err := rsyslogtest.Rsyslogd()
		if err != nil {
			t.Fatal(err)
		}
		// Bounded: a shim that opened the FIFO for reading would block.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		b, err := exec.CommandContext(ctx, bin, "-N1", "-f", path).CombinedOutput()
		hung := ctx.Err() != nil
		cancel()
		if hung {
			t.Fatalf("rsyslogd -N1 hangs on token.file=%s", c.file)
		}
		code, out := 0, string(b)
		if err != nil {
			code = 1
		}
		if code == 0 || !strings.Contains(out, c.want) {
			t.Fatalf("token.file=%s: exit %d, want %q:\n%s", c.file, code, c.want, out)
		}
	}
}

// The tls.* files are read at -N1: Go reads them only after the fork, so a
// file that is not what it should be must be named by the config check,
// not at start.
func TestConfigCheckReadsTLSFiles(t *testing.T) {
	_, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := file("ca.pem", string(caPEM))
	damaged := file("damaged.pem", strings.Replace(string(caPEM), "M", "*", 3))
	cut := file("cut.pem", string(caPEM[:len(caPEM)/2]))
	junk := file("junk.pem", "this is not a certificate\n")
	encKey := file("enc.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAMCAQA=\n-----END ENCRYPTED PRIVATE KEY-----\n")
	ok := `server="https://127.0.0.1:8088" token="abc"`
	for _, c := range []struct{ name, params, want string }{
		{"CA file of junk", `tls.cacert="` + junk + `"`, `tls.cacert="` + junk + `" holds no PEM block`},
		{"damaged CA file", `tls.cacert="` + damaged + `"`, "is not base64 DER"},
		{"CA file cut short", `tls.cacert="` + cut + `"`, "without its END line"},
		{"certificate as key", `tls.cert="` + good + `" tls.key="` + good + `"`, `tls.key="` + good + `" holds no private key`},
		{"encrypted key", `tls.cert="` + good + `" tls.key="` + encKey + `"`, "encrypted private key"},
		{"key as CA file", `tls.cacert="` + encKey + `"`, "holds no certificate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := validate(t, newConfig(t, ok+" "+c.params))
			if code == 0 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d, want an error mentioning %q:\n%s", code, c.want, out)
			}
		})
	}
	if code, out := validate(t, newConfig(t, ok+` tls.cacert="`+good+`"`)); code != 0 {
		t.Fatalf("a good CA file was refused (exit %d):\n%s", code, out)
	}
}

// tls.cert and tls.key must go together and belong together: checked at
// -N1 for RSA and EC keys in every PEM form OpenSSL and Go write, so that
// a key of another certificate is not found only at start.
func TestConfigCheckMatchesClientCertAndKey(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, der []byte, label string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: label, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cert := func(name string, pub, priv any) string {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "client"},
			NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, der, "CERTIFICATE")
	}
	pkcs8 := func(name string, k any) string {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return write(name, der, "PRIVATE KEY")
	}
	rsa1, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsa2, _ := rsa.GenerateKey(rand.Reader, 2048)
	ec1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec2, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec1DER, _ := x509.MarshalECPrivateKey(ec1)
	ec2DER, _ := x509.MarshalECPrivateKey(ec2)
	rsaCert, ecCert := cert("rsa.crt", &rsa1.PublicKey, rsa1), cert("ec.crt", &ec1.PublicKey, ec1)
	keys := map[string]string{
		"rsa pkcs1":       write("rsa1.key", x509.MarshalPKCS1PrivateKey(rsa1), "RSA PRIVATE KEY"),
		"rsa pkcs8":       pkcs8("rsa1.p8", rsa1),
		"ec sec1":         write("ec1.key", ec1DER, "EC PRIVATE KEY"),
		"ec pkcs8":        pkcs8("ec1.p8", ec1),
		"other rsa":       write("rsa2.key", x509.MarshalPKCS1PrivateKey(rsa2), "RSA PRIVATE KEY"),
		"other rsa pkcs8": pkcs8("rsa2.p8", rsa2),
		"other ec":        write("ec2.key", ec2DER, "EC PRIVATE KEY"),
		"other ec pkcs8":  pkcs8("ec2.p8", ec2),
	}
	ok := `server="https://127.0.0.1:8088" token="abc"`
	for _, c := range []struct {
		cert, key string
		good      bool
	}{
		{rsaCert, "rsa pkcs1", true}, {rsaCert, "rsa pkcs8", true}, {ecCert, "ec sec1", true}, {ecCert, "ec pkcs8", true},
		{rsaCert, "other rsa", false}, {rsaCert, "other rsa pkcs8", false}, {ecCert, "other ec", false},
		{ecCert, "other ec pkcs8", false}, {rsaCert, "ec sec1", false}, {ecCert, "rsa pkcs8", false},
	} {
		code, out := validate(t, newConfig(t, ok+` tls.cert="`+c.cert+`" tls.key="`+keys[c.key]+`"`))
		if c.good && code != 0 {
			t.Fatalf("%s with its own key (%s) refused (exit %d):\n%s", filepath.Base(c.cert), c.key, code, out)
		}
		if !c.good && (code == 0 || !strings.Contains(out, "is not the key of tls.cert")) {
			t.Fatalf("%s with a key not its own (%s): exit %d, want \"is not the key of tls.cert\":\n%s",
				filepath.Base(c.cert), c.key, code, out)
		}
	}
	for _, half := range []string{`tls.cert="` + rsaCert + `"`, `tls.key="` + keys["rsa pkcs1"] + `"`} {
		code, out := validate(t, newConfig(t, ok+" "+half))
		if code == 0 || !strings.Contains(out, "tls.cert and tls.key go together") {
			t.Fatalf("%s alone: exit %d, want \"tls.cert and tls.key go together\":\n%s", half, code, out)
		}
	}
}

// A correct action passes -N1 cleanly, including every optional parameter
// (five metadata parameters sharing three templates).
func TestConfigCheckAcceptsAGoodAction(t *testing.T) {
	conf := newConfig(t, `server=["http://127.0.0.1:8088", "https://[::1]:8089/"] token="abc" index="main"
	  source="s" sourcetype="st" host="h" template="RSYSLOG_TraditionalFileFormat" template.json="off"
	  batch.maxevents="1000" batch.maxbytes="2m" batch.maxdelay="5" compress="on" compress.level="6"
	  timeout="5000" connections="8" retry.maxtime="10000" tls.verify="off"
	  event.maxbytes="64k" event.oversize="reject" errorfile="/tmp/omsplunkgo-rejects.json" spool.dir="/tmp"
	  useack="on" ack.interval="200" ack.timeout="60000" endpoint="raw"
	  window.maxevents="50000" window.maxbytes="32m" window.maxwait="500" window.fsync="on"
	  index.template="RSYSLOG_FileFormat" source.template="RSYSLOG_FileFormat" sourcetype.template="RSYSLOG_ForwardFormat"
	  host.template="RSYSLOG_ForwardFormat" fields.template="RSYSLOG_TraditionalFileFormat" name="splunk"`)
	conf.ModuleParams = `gomaxprocs="2" gomemlimit="512m"`
	code, out := validate(t, conf)
	if code != 0 || strings.Contains(out, "error") {
		t.Fatalf("rsyslogd -N1 rejected a good config (exit %d):\n%s", code, out)
	}
}

// validate renders conf and runs `rsyslogd -N1` on it.
func validate(t *testing.T, conf *rsyslogtest.Config) (int, string) {
	t.Helper()
	path, err := conf.Render()
	if err != nil {
		t.Fatal(err)
	}
	code, out, err := rsyslogtest.Validate(path)
	if err != nil {
		t.Fatal(err)
	}
	return code, out
}
