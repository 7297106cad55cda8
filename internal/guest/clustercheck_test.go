package guest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestClustercheckScript runs the rendered responder with bash against a
// stand-in SQL client that prints a chosen status row.
func TestClustercheckScript(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash not installed")
	}
	spec := testSpec(MariaDB, "10.11", SSTRsync).withDefaults()
	members := spec.Nodes
	const inc = "10.210.0.11:3306,10.210.0.12:3306,10.210.0.13:3306"
	row := func(status, state, ready, incoming, reject, donorRejects, maint string) string {
		return strings.Join([]string{status, state, ready, incoming, reject, donorRejects, maint}, "\t")
	}
	cases := []struct {
		name     string
		self     int
		path     string
		donorOK  bool
		row      string // empty: the client fails (server down)
		wantCode string
	}{
		{"synced", 1, "/", false, row("Primary", "Synced", "ON", inc, "NONE", "0", "DISABLED"), "200"},
		{"server down", 1, "/", false, "", "503"},
		{"non-primary", 1, "/", false, row("non-Primary", "Initialized", "OFF", "", "NONE", "0", "DISABLED"), "503"},
		{"joining", 1, "/", false, row("Primary", "Joining: receiving State Transfer", "OFF", inc, "NONE", "0", "DISABLED"), "503"},
		{"donor", 1, "/", false, row("Primary", "Donor/Desynced", "ON", inc, "NONE", "0", "DISABLED"), "503"},
		{"donor allowed", 1, "/", true, row("Primary", "Donor/Desynced", "ON", inc, "NONE", "0", "DISABLED"), "200"},
		{"donor rejecting", 1, "/", true, row("Primary", "Donor/Desynced", "ON", inc, "NONE", "1", "DISABLED"), "503"},
		{"rejecting queries", 1, "/", false, row("Primary", "Synced", "ON", inc, "ALL", "0", "DISABLED"), "503"},
		{"maintenance", 1, "/", false, row("Primary", "Synced", "ON", inc, "NONE", "0", "MAINTENANCE"), "503"},
		{"writer is first member", 0, "/writer", false, row("Primary", "Synced", "ON", inc, "NONE", "0", "DISABLED"), "200"},
		{"not the writer", 1, "/writer", false, row("Primary", "Synced", "ON", inc, "NONE", "0", "DISABLED"), "503"},
		{"writer moves when first is gone", 1, "/writer?x=1", false, row("Primary", "Synced", "ON", "10.210.0.13:3306,10.210.0.12:3306", "NONE", "0", "DISABLED"), "200"},
		{"third is not writer", 2, "/writer", false, row("Primary", "Synced", "ON", "10.210.0.13:3306,10.210.0.12:3306", "NONE", "0", "DISABLED"), "503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			client := "#!/bin/sh\nexit 1\n"
			if tc.row != "" {
				client = "#!/bin/sh\nprintf '%s\\n' '" + tc.row + "'\n"
			}
			if err := os.WriteFile(filepath.Join(dir, "mariadb"), []byte(client), 0o755); err != nil {
				t.Fatal(err)
			}
			script := renderClustercheck(spec, members, members[tc.self], Clustercheck{Password: "x", AvailableWhenDonor: tc.donorOK})
			cmd := exec.Command("bash", "-c", script)
			cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin"}
			cmd.Stdin = strings.NewReader("GET " + tc.path + " HTTP/1.1\r\nHost: x\r\n\r\n")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("script failed: %v\n%s", err, out)
			}
			if !strings.HasPrefix(string(out), "HTTP/1.1 "+tc.wantCode+" ") {
				t.Errorf("got %q, want %s", out, tc.wantCode)
			}
			head, body, _ := strings.Cut(string(out), "\r\n\r\n")
			if !strings.Contains(head, "Content-Length: ") || !strings.HasSuffix(body, "\n") {
				t.Errorf("malformed response %q", out)
			}
		})
	}
}
