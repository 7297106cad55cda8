package guest

import (
	"fmt"
	"time"
)

// Level is an event's importance.
type Level int

const (
	LevelInfo Level = iota
	LevelWarn
)

// Event is one progress report: a phase started or finished on a node.
// Messages never contain secrets. The provider bridges events to tflog.
type Event struct {
	Level   Level
	Phase   string // prepare, bootstrap, join, restart, gate, users, survey, recover, leave, ssh
	Node    string // empty for cluster-wide events
	Message string
	// Elapsed is set when a step finished.
	Elapsed time.Duration
}

func (e Event) String() string {
	s := e.Phase
	if e.Node != "" {
		s += " " + e.Node
	}
	s += ": " + e.Message
	if e.Elapsed > 0 {
		s += fmt.Sprintf(" (%s)", e.Elapsed.Round(100*time.Millisecond))
	}
	return s
}

// Observer receives events; it must be safe for concurrent use (Prepare
// works on all nodes at once). A nil Observer discards them.
type Observer func(Event)

func (o Observer) emit(e Event) {
	if o != nil {
		o(e)
	}
}
