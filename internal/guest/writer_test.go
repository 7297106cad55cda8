package guest

import (
	"os/exec"
	"testing"
)

// The responder's shell and WriterDecision must decide the same for every
// view: the writer is sticky, a node that is not eligible (joining,
// donating, just rejoined and not yet Synced) is never elected, and a
// returning node 1 does not take the writer back.
func TestWriterShellAgreesWithWriterDecision(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	const all = "10.0.0.1:3306,10.0.0.2:3306,10.0.0.10:3306"
	cases := []struct {
		name, self, recorded, incoming string
		eligible, primary              bool
		writer, action                 string
	}{
		{"recorded writer is writer", "10.0.0.1", "10.0.0.1", all, true, true, "10.0.0.1", ""},
		{"others see it too", "10.0.0.2", "10.0.0.1", all, true, true, "10.0.0.1", ""},
		// Defect 11: node 1 back and Synced does not take the writer back.
		{"no failback to node 1", "10.0.0.1", "10.0.0.2", all, true, true, "10.0.0.2", ""},
		{"writer gone: an eligible node claims", "10.0.0.2", "10.0.0.1", "10.0.0.2:3306,10.0.0.10:3306", true, true, "", WriterClaim},
		{"writer gone: a joining node does not claim", "10.0.0.1", "10.0.0.2", "10.0.0.1:3306,10.0.0.10:3306", false, true, "", ""},
		{"nothing recorded: an eligible node claims", "10.0.0.10", "", all, true, true, "", WriterClaim},
		{"donating writer releases", "10.0.0.2", "10.0.0.2", all, false, true, "", WriterRelease},
		{"others wait for the release", "10.0.0.1", "10.0.0.2", all, true, true, "10.0.0.2", ""},
		{"non-primary writer cannot release", "10.0.0.2", "10.0.0.2", "10.0.0.2:3306", false, false, "", ""},
		{"10.0.0.1 is not a prefix of 10.0.0.10", "10.0.0.10", "10.0.0.1", "10.0.0.10:3306", true, true, "", WriterClaim},
		{"junk in the record is nothing", "10.0.0.2", "x';DROP", all, true, true, "", WriterClaim},
		{"empty view", "10.0.0.2", "10.0.0.2", "", false, false, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, a := WriterDecision(tc.self, tc.recorded, tc.incoming, tc.eligible, tc.primary)
			if w != tc.writer || a != tc.action {
				t.Errorf("WriterDecision = %q %q, want %q %q", w, a, tc.writer, tc.action)
			}
			status, eligible := "non-Primary", "0"
			if tc.primary {
				status = "Primary"
			}
			if tc.eligible {
				eligible = "1"
			}
			script := "SELF=" + shellQuote(tc.self) + "\nrecorded=" + shellQuote(tc.recorded) + "\nincoming=" + shellQuote(tc.incoming) +
				"\neligible=" + eligible + "\nstatus=" + status + "\n" + writerShell + "\nprintf '%s|%s' \"$writer\" \"$action\""
			out, err := exec.Command("bash", "-c", script).Output()
			if err != nil {
				t.Fatalf("bash: %v", err)
			}
			if string(out) != tc.writer+"|"+tc.action {
				t.Errorf("writerShell decides %q, WriterDecision %q|%q", out, tc.writer, tc.action)
			}
		})
	}
	members := []Node{{Name: "db-1", Address: "10.0.0.1"}, {Name: "db-2", Address: "10.0.0.2"}, {Name: "db-10", Address: "10.0.0.10"}}
	st := NodeStatus{IncomingAddresses: []string{"10.0.0.2:4567", "10.0.0.1:4567"}, RecordedWriter: "10.0.0.2"}
	if n, ok := WriterOf(members, st); !ok || n.Name != "db-2" {
		t.Errorf("WriterOf = %v %v, want db-2 (the recorded writer, not the first member)", n, ok)
	}
	st.IncomingAddresses = []string{"10.0.0.1:4567", "10.0.0.10:4567"}
	if n, ok := WriterOf(members, st); ok {
		t.Errorf("WriterOf = %v, want none while the recorded writer is out of the component", n)
	}
}
