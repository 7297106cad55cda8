package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"
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

// Event is one progress report ("node 2/3 joined, Synced, 21s").
type Event struct {
	Phase    string
	Node     string
	Message  string
	Duration time.Duration
}

// Logger receives progress and warnings. Messages never contain secrets.
type Logger interface {
	Progress(ctx context.Context, e Event)
	Warn(ctx context.Context, msg string)
}

type nopLogger struct{}

func (nopLogger) Progress(context.Context, Event) {}
func (nopLogger) Warn(context.Context, string)    {}
