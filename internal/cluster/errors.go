package cluster

import (
	"errors"
	"fmt"
)

// ErrNotFound means no trace of the cluster is left in the cloud.
var ErrNotFound = errors.New("cluster not found")

// Phases of a create, named in errors and progress events.
const (
	PhaseValidate  = "validate"
	PhaseCloud     = "cloud objects"
	PhaseServers   = "servers"
	PhaseVolumes   = "volumes"
	PhaseHostKeys  = "host keys"
	PhaseSSH       = "ssh"
	PhasePrepare   = "prepare"
	PhaseBootstrap = "bootstrap"
	PhaseJoin      = "join"
	PhaseRestart   = "restart bootstrap node"
	PhaseUsers     = "users"
	PhaseGate      = "membership gate"
	PhaseDelete    = "delete"
)

// PhaseError says which phase, and which node if any, failed.
type PhaseError struct {
	Phase string
	Node  string // empty when the phase is not about one node
	Err   error
}

func (e *PhaseError) Error() string {
	if e.Node != "" {
		return fmt.Sprintf("%s of %s: %v", e.Phase, e.Node, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Phase, e.Err)
}

func (e *PhaseError) Unwrap() error { return e.Err }

// ReferenceError names the spec field whose reference failed.
type ReferenceError struct {
	Field string // "flavor", "image" or "network"
	Err   error
}

func (e *ReferenceError) Error() string { return fmt.Sprintf("%s: %v", e.Field, e.Err) }
func (e *ReferenceError) Unwrap() error { return e.Err }
