package guest

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// Create names the phase and the node that failed in a typed error, so
// callers need not search the text.
func TestCreateFailureIsANodeError(t *testing.T) {
	spec := testSpec(MariaDB, "10.11", SSTRsync)
	r := &recorder{}
	r.on("echo present", "present\n").on("echo running", "stopped\n").on("grastate.dat", "uuid: 8d7e5695-e6b4-11f1-8748-aaf91ae2b0aa\nseqno: -1\nsafe_to_bootstrap: 0\n")
	for i := range spec.Nodes {
		spec.Nodes[i].Runner = r
	}
	c, err := New(spec)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Create(context.Background())
	var ne *NodeError
	if !errors.As(err, &ne) {
		t.Fatalf("Create = %v, want a *NodeError", err)
	}
	if ne.Phase != PhaseBootstrap || ne.Node != spec.Nodes[0].Name || !strings.Contains(err.Error(), "use Recover") {
		t.Fatalf("NodeError = phase %q node %q: %v", ne.Phase, ne.Node, err)
	}
	// The step's wrapper adds nothing the node's own error says.
	if strings.Count(err.Error(), "bootstrap "+spec.Nodes[0].Name) != 1 {
		t.Errorf("error repeats itself: %v", err)
	}
}

func TestValidatorsNeedNoCluster(t *testing.T) {
	if err := ValidateDatastore(MariaDB, "10.11"); err != nil {
		t.Error(err)
	}
	if err := ValidateDatastore(Percona, "10.11"); err == nil {
		t.Error("percona 10.11 accepted")
	}
	if err := ValidateSST(MariaDB, "10.11", SSTXtrabackupV2); err == nil {
		t.Error("xtrabackup-v2 accepted for mariadb")
	}
	if err := ValidateSST(Percona, "8.0", ""); err != nil {
		t.Errorf("percona 8.0 default SST refused: %v", err)
	}
	if err := ValidateParameters(MariaDB, "10.11", map[string]string{"wsrep_provider": "x"}); err == nil {
		t.Error("managed parameter accepted")
	}
	if DefaultSST(Percona) != SSTXtrabackupV2 || DefaultSST(MariaDB) != SSTMariabackup {
		t.Error("default SST methods changed")
	}
}
