package guest

import (
	"testing"
)

// The responder's shell and Writer must elect the same node for every
// view of the primary component.
func TestWriterShellAgreesWithWriter(t *testing.T) {
	checkElection(t, Writer, writerShell, "writer", map[string]string{
		"10.0.0.1:3306,10.0.0.2:3306,10.0.0.10:3306": "10.0.0.1",
		"10.0.0.2:3306,10.0.0.10:3306":               "10.0.0.2", // db-1 left the component
		"10.0.0.10:3306,10.0.0.2:3306":               "10.0.0.2", // member order, not list order
		"10.0.0.10:3306":                             "10.0.0.10",
		"10.0.0.100:3306":                            "", // 10.0.0.10 is not a prefix match
		"":                                           "",
	})
	members := []Node{{Name: "db-1", Address: "10.0.0.1"}, {Name: "db-2", Address: "10.0.0.2"}, {Name: "db-10", Address: "10.0.0.10"}}
	st := NodeStatus{IncomingAddresses: []string{"10.0.0.2:4567", "10.0.0.1:4567"}}
	if n, ok := WriterOf(members, st); !ok || n.Name != "db-1" {
		t.Errorf("WriterOf = %v %v, want db-1", n, ok)
	}
}
