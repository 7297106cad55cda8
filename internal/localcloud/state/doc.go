// Package state is the local cloud's one store: the records every service
// shares (servers, ports, volumes, security groups, ...), saved as JSON in
// the state file after every change, the hosts and disks behind them, and the
// asynchronous status transitions. One mutex guards it all, because the
// services' records point at each other (a port names its server, a volume
// its attachments) and change together.
package state
