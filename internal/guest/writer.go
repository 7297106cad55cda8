package guest

import (
	"regexp"
	"strings"
)

// The single-writer rule. In single_writer mode exactly one node takes
// writes, and it is sticky: once elected it stays the writer while it is
// healthy, so a node that returns (node 1 after a restart, a node that
// finished donating) never takes the writer back by itself, and pooled
// connections never end up on two writers.
//
// The elected writer's address is recorded in a replicated one-row table,
// pxc_guest.writer (writerTable). Each node's clustercheck responder (the
// load balancer's "/writer" check) decides only about its own node:
//
//   - the recorded writer is the writer while its address is in the asking
//     node's primary component (wsrep_incoming_addresses);
//   - a node is eligible only when it is Synced (never Joining, Donor or
//     Desynced), Primary, ready, not rejecting queries and not in
//     maintenance;
//   - an eligible node claims the writer when none is recorded or the
//     recorded one has left the component, by a compare-and-swap
//     UPDATE ... WHERE address = <the one it read>;
//   - the recorded writer releases itself (CAS to "") when it is no longer
//     eligible but still Primary, e.g. while it donates a state transfer,
//     so a healthy node can claim.
//
// Why this is sound without coordination beyond Galera: the table is
// written only through Galera, and only in a Primary component (a
// non-Primary node cannot commit), so two sides of a partition cannot both
// record a writer. Two nodes claiming at once both update the same row:
// certification lets the first in the total order commit and aborts the
// other (first committer wins, also on a node that had not yet applied the
// first claim), so every node reads the same single writer once it has
// applied the winner. A node that lost or crashed reads the current value
// when it rejoins (IST/SST copies the table), so it does not take the
// writer back. EnsureClustercheck creates the table with the first member
// as the initial writer.
//
// The shell (writerShell) and Go (WriterDecision) implement the same rule;
// writer_test.go runs the shell against the Go code.

// writerTable is the replicated record of the elected writer.
const (
	writerSchema = "pxc_guest"
	writerTable  = writerSchema + ".writer"
)

// Writer actions a node's responder takes after deciding.
const (
	WriterClaim   = "claim"   // CAS the record from what was read to self
	WriterRelease = "release" // CAS the record from self to ""
)

var writerAddressRe = regexp.MustCompile(`^[0-9A-Fa-f:.]{1,64}$`)

// inComponent says whether address has an entry in incomingAddresses (a
// comma-separated "ip:port" list).
func inComponent(address, incomingAddresses string) bool {
	return address != "" && strings.Contains(","+incomingAddresses+",", ","+address+":")
}

// WriterDecision is the rule as one node applies it: self is the node's
// address, recorded what pxc_guest.writer holds, incomingAddresses the
// node's wsrep_incoming_addresses and eligible whether the node may be the
// writer (Synced, Primary, ready, accepting queries). It returns the
// writer as this node sees it ("" when none) and the action to take
// (WriterClaim, WriterRelease or ""). A claim that commits makes self the
// writer; until then there is none.
func WriterDecision(self, recorded, incomingAddresses string, eligible, primary bool) (writer, action string) {
	if !writerAddressRe.MatchString(recorded) {
		recorded = ""
	}
	switch {
	case inComponent(recorded, incomingAddresses) && recorded == self && !eligible:
		if primary {
			return "", WriterRelease
		}
		return "", ""
	case inComponent(recorded, incomingAddresses):
		return recorded, ""
	case eligible:
		return "", WriterClaim
	}
	return "", ""
}

// Writer is the member recorded as writer, if it is in the primary
// component seen in incomingAddresses; false when there is none (a healthy
// node's responder claims the writer on the load balancer's next check).
func Writer(members []Node, recorded, incomingAddresses string) (Node, bool) {
	for _, m := range members {
		if m.Address == recorded && inComponent(recorded, incomingAddresses) {
			return m, true
		}
	}
	return Node{}, false
}

// WriterOf applies Writer to a node's status as Status reads it.
func WriterOf(members []Node, st NodeStatus) (Node, bool) {
	return Writer(members, st.RecordedWriter, strings.Join(st.IncomingAddresses, ","))
}

// writerShell is WriterDecision in bash: from $SELF, $recorded, $incoming,
// $eligible (1 or 0) and $status it sets $writer and $action.
const writerShell = `writer="" action=""
  case "$recorded" in *[!0-9A-Fa-f:.]*) recorded="";; esac
  [ ${#recorded} -le 64 ] || recorded=""
  in_component=0
  if [ -n "$recorded" ]; then case ",$incoming," in *",$recorded:"*) in_component=1;; esac; fi
  if [ "$in_component" = 1 ] && [ "$recorded" = "$SELF" ] && [ "$eligible" != 1 ]; then
    [ "$status" = Primary ] && action=release
  elif [ "$in_component" = 1 ]; then writer=$recorded
  elif [ "$eligible" = 1 ]; then action=claim
  fi`
