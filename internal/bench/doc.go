// Package bench holds `make bench`: one terraform apply of the quickstart on
// the local cloud with its phase timings, the failover window of its load
// balancer, and the raw lower bound of the same cluster built by the guest
// library alone. It has no code of its own outside its test.
package bench
