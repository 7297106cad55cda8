// Package bench holds `make bench`: one terraform apply of the quickstart on
// the local cloud with its phase timings and API requests, a rolling
// restart of its 3 nodes (a static parameter change) and a planned writer
// move with their longest write gaps through the VIP, the failover
// window of its load balancer on 3 and 5 nodes (and, in TestBenchFailoverTLS,
// with TLS disabled and required side by side, each with the load
// balancer's check results and the failed writes after the kill), and the
// raw lower bound of the same cluster: Galera driven by hand over SSH on
// fresh hosts of the same kind. It has no code of its own outside its test.
package bench
