package guest

import "strings"

// The single-writer rule. In single_writer mode exactly one node takes
// writes: of the members in their fixed order, the first whose address is
// in the asking node's primary component (wsrep_incoming_addresses, a
// comma-separated "ip:port" list). Every node of one primary component
// sees the same list, so all of them name the same writer, and a node
// outside it names none of the others. The clustercheck responder (the
// load balancer's "/writer" check) runs writerShell, rendered from here;
// Go code asks Writer. Both must stay the same rule (writer_test.go runs
// the shell against Writer).

// Writer is the node the rule elects, given the members in their fixed
// order and one node's wsrep_incoming_addresses; false when none is in it.
func Writer(members []Node, incomingAddresses string) (Node, bool) {
	list := "," + incomingAddresses + ","
	for _, m := range members {
		if strings.Contains(list, ","+m.Address+":") {
			return m, true
		}
	}
	return Node{}, false
}

// WriterOf applies Writer to a node's status as Status reads it.
func WriterOf(members []Node, st NodeStatus) (Node, bool) {
	return Writer(members, strings.Join(st.IncomingAddresses, ","))
}

// writerShell is Writer in bash: from $MEMBERS (addresses in member order)
// and $incoming, it sets $writer to the elected address or "".
const writerShell = `writer=""
  for m in $MEMBERS; do
    case ",$incoming," in *",$m:"*) writer=$m; break;; esac
  done`
