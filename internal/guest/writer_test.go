package guest

import (
	"os/exec"
	"strings"
	"testing"
)

// The responder's shell and Writer must elect the same node for every
// view of the primary component.
func TestWriterShellAgreesWithWriter(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	members := []Node{{Name: "db-1", Address: "10.0.0.1"}, {Name: "db-2", Address: "10.0.0.2"}, {Name: "db-10", Address: "10.0.0.10"}}
	cases := map[string]string{
		"10.0.0.1:3306,10.0.0.2:3306,10.0.0.10:3306": "10.0.0.1",
		"10.0.0.2:3306,10.0.0.10:3306":               "10.0.0.2", // db-1 left the component
		"10.0.0.10:3306,10.0.0.2:3306":               "10.0.0.2", // member order, not list order
		"10.0.0.10:3306":                             "10.0.0.10",
		"10.0.0.100:3306":                            "", // 10.0.0.10 is not a prefix match
		"":                                           "",
	}
	var order []string
	for _, m := range members {
		order = append(order, m.Address)
	}
	for incoming, want := range cases {
		got := ""
		if n, ok := Writer(members, incoming); ok {
			got = n.Address
		}
		if got != want {
			t.Errorf("Writer(%q) = %q, want %q", incoming, got, want)
		}
		script := "MEMBERS=" + shellQuote(strings.Join(order, " ")) + "\nincoming=" + shellQuote(incoming) + "\n" + writerShell + "\nprintf %s \"$writer\""
		out, err := exec.Command("bash", "-c", script).Output()
		if err != nil {
			t.Fatalf("bash: %v", err)
		}
		if string(out) != want {
			t.Errorf("writerShell with incoming %q elects %q, Writer elects %q", incoming, out, want)
		}
	}
	st := NodeStatus{IncomingAddresses: []string{"10.0.0.2:4567", "10.0.0.1:4567"}}
	if n, ok := WriterOf(members, st); !ok || n.Name != "db-1" {
		t.Errorf("WriterOf = %v %v, want db-1", n, ok)
	}
}
