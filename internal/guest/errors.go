package guest

import (
	"errors"
	"fmt"
)

// Phases of the create sequence, named in events and in NodeError.
const (
	PhasePrepare      = "prepare"
	PhaseBootstrap    = "bootstrap"
	PhaseJoin         = "join"
	PhaseRestart      = "restart"
	PhaseUsers        = "users"
	PhaseGate         = "gate"
	PhaseClustercheck = "clustercheck"
	// Day-2 changes of a running cluster.
	PhaseSettings     = "settings"
	PhaseRootPassword = "root password"
	PhaseFilesystem   = "filesystem"
)

// NodeError says which phase failed and on which node, so callers need
// not search error text. Node is empty when no one node is at fault, and
// lists the missing members (comma-separated) for a failed gate.
type NodeError struct {
	Phase string
	Node  string
	Err   error
}

func (e *NodeError) Error() string {
	// A step that wraps a node's own error says nothing the inner one does not.
	var inner *NodeError
	if errors.As(e.Err, &inner) && inner.Phase == e.Phase && inner.Node == e.Node {
		return e.Err.Error()
	}
	if e.Node == "" {
		return fmt.Sprintf("%s: %v", e.Phase, e.Err)
	}
	return fmt.Sprintf("%s %s: %v", e.Phase, e.Node, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// stepError makes err a NodeError of the phase, naming the node the
// step's own error names.
func stepError(phase string, err error) error {
	ne := &NodeError{Phase: phase, Err: err}
	var inner *NodeError
	if errors.As(err, &inner) {
		ne.Node = inner.Node
	}
	return ne
}
