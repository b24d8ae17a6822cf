// SPDX-License-Identifier: Apache-2.0

package rsconf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// What index templates render: constants, variables set to literals or
// looked up in a table (its nomatch too), list templates, products of
// pieces; and why not, for message properties, a variable set from an
// expression, options the check does not apply.
func TestValues(t *testing.T) {
	dir := t.TempDir()
	table := filepath.Join(dir, "idx.json")
	os.WriteFile(table, []byte(`{"version":1,"nomatch":"main","type":"string",
	  "table":[{"index":"h1","value":"net"},{"index":"h2","value":"forbidden"},{"index":"h3","value":"net"}]}`), 0o644)
	conf := `
# a comment with template(name="x" type="string" string="no")
module(load="omsplunkgo")
lookup_table(name="idx" file="` + table + `")
template(name="fixed" type="string" string="fw")
template(name="looked" type="string" string="%$.ix%")
template(name="listed" type="list") { constant(value="fw_") property(name="$!site") }
template(name="prog" type="string" string="%programname%")
template(name="expr" type="string" string="%$.e%")
template(name="lower" type="string" string="%$.ix:::lowercase%")
$template legacy,"sec_%$!site%"
/* template(name="hidden" type="string" string="x") */
set $.ix = lookup("idx", $hostname);
if $programname == "sshd" then { set $.ix = "auth"; }
set $!site = "a";
if $fromhost-ip startswith '10.' then set $!site = 'b';
set $.e = $programname & "x";
action(type="omsplunkgo" template="fixed" index.template="looked")
`
	c := Parse(conf)
	for _, tc := range []struct{ tpl, list, from, unknown string }{
		{"fixed", "fw", "constant", ""},
		{"looked", "auth forbidden main net", `lookup table "idx"`, ""},
		{"LISTED", "fw_a fw_b", "2 literal set $!site", ""},
		{"legacy", "sec_a sec_b", "literal", ""},
		{"prog", "", "", "a property of the message"},
		{"expr", "", "", "set to `$programname & \"x\"`"},
		{"lower", "", "", "options"},
		{"hidden", "", "", "not in the configuration"},
		{"x", "", "", "not in the configuration"},
	} {
		v := c.Values(tc.tpl)
		if strings.Join(v.List, " ") != tc.list || !strings.Contains(v.From, tc.from) || !strings.Contains(v.Unknown, tc.unknown) ||
			(tc.unknown == "") != (v.Unknown == "") {
			t.Errorf("%s: %+v, want list %q from %q unknown %q", tc.tpl, v, tc.list, tc.from, tc.unknown)
		}
	}
}
