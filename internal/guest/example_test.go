package guest_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/pxc-provider/terraform-provider-pxc/internal/guest"
)

// A program (not Terraform) that builds a 3-node MariaDB Galera cluster on
// three fresh servers, creates an application user and prints the gate.
func Example() {
	key, err := os.ReadFile("/home/ops/.ssh/id_ed25519")
	if err != nil {
		log.Fatal(err)
	}
	hostKey := func(line string) ssh.PublicKey {
		k, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			log.Fatal(err)
		}
		return k
	}
	bastion := &guest.SSHTarget{Addr: "203.0.113.10", PrivateKey: key, KnownHostsFile: "/home/ops/.ssh/known_hosts"}
	node := func(name, addr, hostKeyLine, volumeID string) guest.Node {
		return guest.Node{
			Name:    name,
			Address: addr,
			SSH: &guest.SSHTarget{
				Addr: addr, PrivateKey: key, Bastion: bastion,
				HostKeys: []ssh.PublicKey{hostKey(hostKeyLine)},
			},
			DataVolume: guest.DataVolume{IDPrefix: volumeID[:20], Device: "/dev/vdb"},
		}
	}
	spec := guest.ClusterSpec{
		Name:         "orders",
		Flavour:      guest.MariaDB,
		Version:      "10.11",
		SST:          guest.SSTMariabackup,
		RootPassword: os.Getenv("DB_ROOT_PASSWORD"),
		SSTPassword:  os.Getenv("DB_SST_PASSWORD"),
		Parameters:   map[string]string{"max_connections": "500"},
		Nodes: []guest.Node{
			node("db1", "10.0.0.11", "ssh-ed25519 AAAA...1", "6f1c8f34-5c1e-4d52-9a0e-0c1f2a3b4c5d"),
			node("db2", "10.0.0.12", "ssh-ed25519 AAAA...2", "0a9d0c7e-7b2f-4f63-8e1a-1d2e3f4a5b6c"),
			node("db3", "10.0.0.13", "ssh-ed25519 AAAA...3", "c3b2a190-8d7e-4c6f-b5a4-2e3f4a5b6c7d"),
		},
	}
	if err := guest.Validate(spec); err != nil {
		log.Fatal(err) // bad inputs are refused before anything runs
	}
	c, err := guest.New(spec, guest.WithObserver(func(e guest.Event) { log.Print(e) }))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	st, err := c.Create(ctx) // prepare, bootstrap, join one by one, restart, gate
	if err != nil {
		log.Fatal(err)
	}
	for _, n := range st.Nodes {
		fmt.Println(n.Node, n.ClusterStatus, n.LocalState, n.ClusterSize)
	}
	err = c.EnsureUsers(ctx, guest.User{
		Name: "orders_app", Host: "10.0.0.%", Password: os.Getenv("APP_PASSWORD"),
		Grants: []guest.Grant{{Privileges: []string{"SELECT", "INSERT", "UPDATE", "DELETE"}, On: "orders.*"}},
	})
	if err != nil {
		log.Fatal(err)
	}

	// After a full outage: survey every node, bootstrap the most advanced
	// one, rejoin the others, and keep the decision for the operator.
	d, err := c.Recover(ctx, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d)
}
