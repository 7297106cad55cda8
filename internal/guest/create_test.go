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

// Create's last step leaves out the responder's install where Prepare put
// the same one in (on systemd a manager reload per node): the nodes
// remember what this Cluster installed, a responder of other settings does
// not match, and a closed Cluster remembers nothing.
func TestCreateKeepsThePreparedResponder(t *testing.T) {
	for _, initSys := range []string{"systemd", "none"} {
		spec := testSpec(MariaDB, "10.11", SSTRsync)
		spec.Clustercheck = &Clustercheck{Password: "cc-secret", Port: 9201}
		c, log := fakeCluster(t, spec, initSys)
		ctx := context.Background()
		if err := c.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		members := c.Spec().Nodes
		for _, n := range c.nodes() {
			if got, want := n.installed(), responderKey(c.spec, members, n.Node, *spec.Clustercheck); got != want {
				t.Errorf("%s %s: after Prepare the node remembers responder %q, want %q", initSys, n.Name, got, want)
			}
			other := Clustercheck{Password: "cc-secret", Port: 9202}
			if n.installed() == responderKey(c.spec, members, n.Node, other) {
				t.Errorf("%s %s: a responder on another port counts as installed", initSys, n.Name)
			}
		}
		// A later start consumes Prepare's install, not the memory of it.
		log.lines = nil
		n := c.nodes()[1]
		if err := c.start(ctx, n, false); err != nil {
			t.Fatal(err)
		}
		if n.installed() == "" {
			t.Errorf("%s: the node forgot its responder after a start", initSys)
		}
		c.Close()
		for _, n := range c.nodes() {
			if n.installed() != "" {
				t.Errorf("%s %s: a closed Cluster still remembers a responder", initSys, n.Name)
			}
		}
	}
}
