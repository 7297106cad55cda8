// Command terraform-provider-pxc serves the pxc Terraform provider: highly
// available Percona XtraDB Cluster / MariaDB Galera clusters on OpenStack.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/pxc-provider/terraform-provider-pxc/internal/provider"
)

// version is set by goreleaser at release time (-X main.version=...).
var version = "dev"

// providerAddress is the registry address Terraform uses for this provider.
const providerAddress = "registry.terraform.io/pxc-provider/pxc"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "start the provider with support for debuggers like delve")
	flag.Parse()

	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: providerAddress,
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
